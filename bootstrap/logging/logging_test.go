package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestParseFormat(t *testing.T) {
	for _, ok := range []string{"auto", "console", "json", "journal", "JSON"} {
		if _, err := ParseFormat(ok); err != nil {
			t.Errorf("ParseFormat(%q): %v", ok, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("ParseFormat(xml) = %v", err)
	}
}

func TestJSONLinesWithLevels(t *testing.T) {
	var b bytes.Buffer
	log := New(&b, JSON, false)
	log.Debug().Msg("hidden without -v")
	log.Warn().Str("step", "ddns").Msg("held off")
	var line map[string]any
	if err := json.Unmarshal(b.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q", b.String())
	}
	if line["level"] != "warn" || line["step"] != "ddns" || line["message"] != "held off" || line["time"] == nil {
		t.Errorf("line = %v", line)
	}
	b.Reset()
	verbose := New(&b, JSON, true)
	verbose.Debug().Msg("shown with -v")
	if !strings.Contains(b.String(), "shown with -v") {
		t.Errorf("-v did not enable debug: %q", b.String())
	}
}

func TestConsoleIsReadable(t *testing.T) {
	var b bytes.Buffer
	log := New(&b, Console, false)
	log.Info().Str("step", "hosts").Msg("updated the managed block")
	if s := b.String(); !strings.Contains(s, "INF updated the managed block step=hosts") || strings.Contains(s, "\x1b[") {
		t.Errorf("console line = %q (want plain text when not a terminal)", s)
	}
}

// Auto picks the journal only when stderr really is the stream systemd
// named in JOURNAL_STREAM, as sd_journal_stream_fd's users check it.
func TestAutoDetectsTheJournalStream(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOURNAL_STREAM", fmt.Sprintf("%d:%d", st.Dev, st.Ino))
	if got := detect(f); got != Journal {
		t.Errorf("detect(stream named by JOURNAL_STREAM) = %s, want journal", got)
	}
	t.Setenv("JOURNAL_STREAM", fmt.Sprintf("%d:%d", st.Dev, st.Ino+1))
	if got := detect(f); got != JSON {
		t.Errorf("detect(other stream) = %s, want json", got)
	}
	t.Setenv("JOURNAL_STREAM", "")
	if got := detect(&bytes.Buffer{}); got != JSON {
		t.Errorf("detect(buffer) = %s, want json", got)
	}
}
