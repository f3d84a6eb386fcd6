package logging

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/ec2boot/ec2boot/bootstrap/humanize"
)

// oneLine sits in front of the console and journald writers, which print
// string values as they are: every message and field (a key path from the
// configuration, a name from DNS, a provider's reply) reaches them through
// here with its control characters escaped, so no value can end a line and
// forge the next one or send escape sequences to a terminal. JSON output
// escapes them itself.
type oneLine struct{ out io.Writer }

func (w oneLine) Write(p []byte) (int, error) {
	d := json.NewDecoder(bytes.NewReader(p))
	d.UseNumber()
	var event map[string]any
	if err := d.Decode(&event); err != nil {
		// Not an event zerolog wrote; never expected. Pass it on as is,
		// rather than lose it.
		return w.out.Write(p)
	}
	for k, v := range event {
		event[k] = escapeValue(v)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(event); err != nil {
		return w.out.Write(p)
	}
	if _, err := w.out.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

func escapeValue(v any) any {
	switch x := v.(type) {
	case string:
		return humanize.OneLine(x)
	case []any:
		for i := range x {
			x[i] = escapeValue(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = escapeValue(x[k])
		}
	}
	return v
}
