package userdata

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"path"
	"strconv"
	"strings"
)

// decompTypes are the content types cloud-init gunzips before looking at a
// part (cloudinit/user_data.py DECOMP_TYPES).
var decompTypes = []string{
	"application/gzip",
	"application/gzip-compressed",
	"application/gzipped",
	"application/x-compress",
	"application/x-compressed",
	"application/x-gunzip",
	"application/x-gzip",
	"application/x-gzip-compressed",
}

// walker visits a MIME message the way cloud-init does: depth first, every
// multipart container opened, every leaf considered once.
type walker struct {
	budget *budget
	r      *Result
	chosen string // index of our part, once found
}

func extractMIME(data []byte, b *budget, r *Result) error {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("user-data: MIME header: %w", err)
	}
	w := &walker{budget: b, r: r}
	return w.entity(textproto.MIMEHeader(msg.Header), msg.Body, "", 0)
}

// entity handles one MIME entity: a multipart container or a leaf. index is
// "" for the top-level message, else the dotted part number.
func (w *walker) entity(h textproto.MIMEHeader, body io.Reader, index string, depth int) error {
	where := "user-data"
	if index != "" {
		where += ": part " + index
	}
	mediaType, params := "text/plain", map[string]string{} // RFC 2045's default
	if ct := h.Get("Content-Type"); ct != "" {
		mt, ps, err := mime.ParseMediaType(ct)
		if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
			return fmt.Errorf("%s: Content-Type %q: %w", where, ct, err)
		}
		mediaType, params = mt, ps
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		return w.multipart(mediaType, params, body, index, depth, where)
	}

	filename := partFilename(h, params)
	if filename != "" {
		where += " (" + filename + ")"
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("%s: %w", where, mimeReadErr(err))
	}
	part := Part{Index: index, ContentType: mediaType, Filename: filename, Size: len(raw)}
	if !isOurs(mediaType, filename) {
		// Not ours: cloud-init's business. It is not decoded, so a quirk in
		// a part we do not use cannot stop the run.
		w.r.Parts = append(w.r.Parts, part)
		return nil
	}
	if w.chosen != "" {
		return fmt.Errorf("user-data: parts %s and %s both carry ec2boot configuration: keep one", w.chosen, index)
	}
	data, err := decodeTransfer(h.Get("Content-Transfer-Encoding"), raw)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if oneOf(mediaType, decompTypes) && !isGzip(data) {
		return fmt.Errorf("%s: content type %s, but the data is not gzip", where, mediaType)
	}
	if isGzip(data) {
		if data, err = w.budget.gunzip(data); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		part.Gzip = true
	}
	toml, err := asTOML(data)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	part.Size, part.Chosen = len(toml), true
	w.chosen = index
	w.r.Parts = append(w.r.Parts, part)
	w.r.TOML = toml
	w.r.Source = strings.Replace(where, ": ", " ", 1)
	return nil
}

func (w *walker) multipart(mediaType string, params map[string]string, body io.Reader, index string, depth int, where string) error {
	if depth >= maxDepth {
		return fmt.Errorf("%s: %s nested more than %d levels deep", where, mediaType, maxDepth)
	}
	boundary := params["boundary"]
	if boundary == "" {
		return fmt.Errorf("%s: %s without a boundary parameter", where, mediaType)
	}
	// The whole body is at hand anyway (user-data is small), and keeping it
	// tells an archive with no parts from one whose boundary is wrong.
	all, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("%s: %w", where, mimeReadErr(err))
	}
	mr := multipart.NewReader(bytes.NewReader(all), boundary)
	for n := 1; ; n++ {
		child := strconv.Itoa(n)
		if index != "" {
			child = index + "." + child
		}
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if n == 1 && isCloseOnly(all, boundary) {
				return nil
			}
			if n == 1 {
				return fmt.Errorf("%s: %s: boundary %q not found", where, mediaType, boundary)
			}
			return fmt.Errorf("%s: part %s: %w", where, child, mimeReadErr(err))
		}
		if err := w.entity(p.Header, p, child, depth+1); err != nil {
			return err
		}
	}
}

// isCloseOnly reports whether a multipart body holds nothing but its close
// delimiter: an archive with no parts, which Go's reader calls an error.
func isCloseOnly(body []byte, boundary string) bool {
	return strings.TrimSpace(string(body)) == "--"+boundary+"--"
}

// mimeReadErr explains the multipart reader's terse errors.
func mimeReadErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("MIME: no closing boundary: %w", err)
	}
	return fmt.Errorf("MIME: %w", err)
}

// partFilename is the part's file name as cloud-init sees it: the
// Content-Disposition filename, else the Content-Type name parameter.
func partFilename(h textproto.MIMEHeader, ctParams map[string]string) string {
	name := ""
	if cd := h.Get("Content-Disposition"); cd != "" {
		if _, ps, err := mime.ParseMediaType(cd); err == nil || errors.Is(err, mime.ErrInvalidMediaParameter) {
			name = ps["filename"]
		}
	}
	if name == "" {
		name = ctParams["name"]
	}
	return name
}

func isOurs(mediaType, filename string) bool {
	if oneOf(mediaType, ourTypes) {
		return true
	}
	return filename != "" && strings.EqualFold(path.Base(strings.ReplaceAll(filename, `\`, "/")), OurFilename)
}

// decodeTransfer undoes a Content-Transfer-Encoding. cloud-init's make-mime
// always uses base64. Go's mime/multipart decodes only quoted-printable on
// its own, and raw parts are read here, so both are handled alike.
func decodeTransfer(cte string, raw []byte) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return raw, nil
	case "base64":
		// Decode skips CR and LF and reports offsets in raw itself.
		out := make([]byte, base64.StdEncoding.DecodedLen(len(raw)))
		n, err := base64.StdEncoding.Decode(out, bytes.TrimRight(raw, " \t\r\n"))
		if err != nil {
			return nil, fmt.Errorf("base64: %w", err)
		}
		return out[:n], nil
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return nil, fmt.Errorf("quoted-printable: %w", err)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unknown Content-Transfer-Encoding %q", cte)
	}
}

func oneOf(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}
