package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
	"github.com/rs/zerolog"
)

// Identifier is every journal entry's SYSLOG_IDENTIFIER: `journalctl -t
// ec2boot` finds the runs whichever unit (or shell) started them.
const Identifier = "ec2boot"

// journalWriter sends each zerolog event to journald's native socket as
// one entry: MESSAGE, PRIORITY from the level, SYSLOG_IDENTIFIER, and each
// field under its upper-cased name (STEP, TOOK, EXIT_CODE, ...).
//
// journalctl shows MESSAGE alone, so the message also names the step and
// ends with the error: "render: step failed: ..." rather than a bare "step
// failed" whose cause only `-o verbose` would show.
//
// zerolog's own journald writer sets no SYSLOG_IDENTIFIER, which native
// entries only get from the sender (SyslogIdentifier= in a unit applies to
// stdout and stderr), and repeats the whole event in a JSON= field.
type journalWriter struct {
	send func(msg string, prio journal.Priority, vars map[string]string) error
}

func (w journalWriter) Write(p []byte) (int, error) {
	var event map[string]any
	d := json.NewDecoder(bytes.NewReader(p))
	d.UseNumber()
	if err := d.Decode(&event); err != nil {
		return 0, fmt.Errorf("journal: not a log event: %w", err)
	}
	prio := journal.PriNotice
	msg := ""
	vars := map[string]string{"SYSLOG_IDENTIFIER": Identifier}
	for k, v := range event {
		switch k {
		case zerolog.LevelFieldName:
			if s, ok := v.(string); ok {
				prio = priority(s)
			}
			continue
		case zerolog.TimestampFieldName:
			continue // the journal stamps entries itself
		case zerolog.MessageFieldName:
			msg, _ = v.(string)
			continue
		}
		switch v := v.(type) {
		case string:
			vars[fieldName(k)] = v
		case json.Number:
			vars[fieldName(k)] = v.String()
		default:
			b, _ := json.Marshal(v)
			vars[fieldName(k)] = string(b)
		}
	}
	if step := vars["STEP"]; step != "" {
		msg = step + ": " + msg
	}
	if e := vars["ERROR"]; e != "" {
		msg += ": " + e
	}
	if err := w.send(msg, prio, vars); err != nil {
		return 0, err
	}
	return len(p), nil
}

func priority(level string) journal.Priority {
	l, _ := zerolog.ParseLevel(level)
	switch l {
	case zerolog.TraceLevel, zerolog.DebugLevel:
		return journal.PriDebug
	case zerolog.InfoLevel:
		return journal.PriInfo
	case zerolog.WarnLevel:
		return journal.PriWarning
	case zerolog.ErrorLevel:
		return journal.PriErr
	case zerolog.FatalLevel:
		return journal.PriCrit
	case zerolog.PanicLevel:
		return journal.PriEmerg
	}
	return journal.PriNotice
}

// fieldName makes a journal field name of a log field's: upper case, only
// A-Z, 0-9 and _, not starting with _ or a digit (which journald drops or
// reserves).
func fieldName(k string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(k) {
		if ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || s[0] == '_' || ('0' <= s[0] && s[0] <= '9') {
		s = "F" + s
	}
	return s
}
