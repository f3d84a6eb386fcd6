package config

import (
	"errors"
	"net/url"
	"strings"
)

// RedactURL hides the credentials of a URL written with them
// ("http://user:pw@host" becomes "http://user:REDACTED@host"; a user part
// alone, which may be a token, becomes "REDACTED"). It works on the text,
// so it also hides them in a URL that does not parse.
func RedactURL(s string) string {
	authority := s
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + 3
		authority = s[start:]
	}
	if end := strings.IndexAny(authority, "/?#"); end >= 0 {
		authority = authority[:end]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return s
	}
	user, _, hasPass := strings.Cut(authority[:at], ":")
	redacted := "REDACTED"
	if hasPass {
		redacted = user + ":REDACTED"
	}
	return s[:start] + redacted + s[start+at:]
}

// urlError drops the URL from a url.Parse error: the text may carry
// credentials and the message names the key anyway.
func urlError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
