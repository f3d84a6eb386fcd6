package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/internal/testenv"
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

// TestJournalFields sends log events through the journal format to a
// journal socket of the test's own, in a private mount namespace (a tmpfs
// on /run, where go-systemd's journal package sends), and reads the
// datagrams as journald would.
func TestJournalFields(t *testing.T) {
	if !testenv.InMountNS(t) {
		return
	}
	// The child: the mount namespace is private (the parent asked for
	// CLONE_NEWNS, which also makes / a private mount), so this tmpfs is
	// seen by nothing else.
	if err := syscall.Mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("/run/systemd/journal", 0o755); err != nil {
		t.Fatal(err)
	}
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "/run/systemd/journal/socket", Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()

	log := New(os.Stderr, Journal, false)
	log.Info().Str("step", "ddns").Str("took", "26.4ms").Msg("registered web.example.test")
	log.Error().Str("outcome", "failed").Int("exit_code", 2).Int("changes", 1).Str("took", "1.2s").Msg("run failed (exit 2): 1 change(s) applied")
	log.Warn().Str("key", "dns.a\nb").Msg("unknown key\nPRIORITY=0")
	log.Error().Str("step", "render").Err(errors.New("/etc/app/peers.json: permission denied")).Msg("step failed")

	want := []map[string]string{
		// journalctl shows only MESSAGE: it names the step.
		{"PRIORITY": "6", "MESSAGE": "ddns: registered web.example.test", "SYSLOG_IDENTIFIER": "ec2boot", "STEP": "ddns", "TOOK": "26.4ms"},
		{"PRIORITY": "3", "MESSAGE": "run failed (exit 2): 1 change(s) applied", "SYSLOG_IDENTIFIER": "ec2boot",
			"OUTCOME": "failed", "EXIT_CODE": "2", "CHANGES": "1", "TOOK": "1.2s"},
		// A newline in a value is escaped, so journalctl shows one line.
		{"PRIORITY": "4", "MESSAGE": `unknown key\nPRIORITY=0`, "SYSLOG_IDENTIFIER": "ec2boot", "KEY": `dns.a\nb`},
		// ... and ends with the error.
		{"PRIORITY": "3", "MESSAGE": "render: step failed: /etc/app/peers.json: permission denied", "SYSLOG_IDENTIFIER": "ec2boot",
			"STEP": "render", "ERROR": "/etc/app/peers.json: permission denied"},
	}
	var got []map[string]string
	buf := make([]byte, 1<<16)
	sock.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range want {
		n, err := sock.Read(buf)
		if err != nil {
			t.Fatalf("reading the journal socket: %v", err)
		}
		fields := map[string]string{}
		for _, line := range strings.Split(strings.TrimSuffix(string(buf[:n]), "\n"), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("not a KEY=VALUE line: %q", line)
			}
			fields[k] = v
		}
		got = append(got, fields)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("journal entries (-want +got):\n%s", d)
	}
}

func TestJournalFieldNames(t *testing.T) {
	for in, want := range map[string]string{"step": "STEP", "exit_code": "EXIT_CODE", "provider-says": "PROVIDER_SAYS", "_x": "F_X", "9x": "F9X", "": "F"} {
		if got := fieldName(in); got != want {
			t.Errorf("fieldName(%q) = %q, want %q", in, got, want)
		}
	}
}

// A value from the configuration or the network holding a newline must not
// forge a second log line on the console, nor send escape sequences.
func TestConsoleEscapesControlCharacters(t *testing.T) {
	var b bytes.Buffer
	log := New(&b, Console, false)
	log.Warn().Str("key", "dns.accounts.a\nINF forged").Msg("unknown key dns.accounts.a\n12:00:00 INF forged line\x1b[2J")
	got := b.String()
	if n := strings.Count(got, "\n"); n != 1 {
		t.Errorf("one event printed %d lines: %q", n, got)
	}
	if strings.Contains(got, "\x1b") {
		t.Errorf("escape sequence reached the console: %q", got)
	}
	if !strings.Contains(got, `dns.accounts.a\n12:00:00 INF forged line\x1b[2J`) {
		t.Errorf("message not shown escaped: %q", got)
	}
}

// The journal gets the same escaping; its writer sees the event after it.
func TestJournalValuesAreEscaped(t *testing.T) {
	var b bytes.Buffer
	w := oneLine{&b}
	log := zerolog.New(w)
	log.Error().Str("path", "/etc/a\nb").Msg("first\nsecond")
	var ev map[string]any
	if err := json.Unmarshal(b.Bytes(), &ev); err != nil {
		t.Fatal(err)
	}
	if ev["message"] != `first\nsecond` || ev["path"] != `/etc/a\nb` || ev["level"] != "error" {
		t.Errorf("event = %v", ev)
	}
}
