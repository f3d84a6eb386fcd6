package config

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://user:pw@host.example", "http://user:REDACTED@host.example"},
		{"https://user:p@ss@host.example:8443/x?y=1", "https://user:REDACTED@host.example:8443/x?y=1"},
		{"https://token@host.example", "https://REDACTED@host.example"},
		{"user:pw@host.example", "user:REDACTED@host.example"},
		{"http://host.example/a@b", "http://host.example/a@b"},
		{"https://host.example", "https://host.example"},
		{"http://user:pw%zz@host", "http://user:REDACTED@host"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Credentials written into a URL are refused, and the message that says so
// never repeats the password, however the URL is malformed.
func TestURLCredentialsRefusedWithoutEchoingThem(t *testing.T) {
	const pw = "s3cr3t-in-url"
	for _, server := range []string{
		"http://user:" + pw + "@127.0.0.1:8080",
		"https://user:" + pw + "@members.example.com",
		"user:" + pw + "@members.example.com",
		"http://user:" + pw + "%zz@members.example.com",
		"ftp://user:" + pw + "@members.example.com",
		"https://" + pw + "@members.example.com",
	} {
		t.Run(server, func(t *testing.T) {
			doc := `[imds]
endpoint = "http://u:` + pw + `@127.0.0.1:1"
[dns.accounts.a]
server = "` + server + `"
username = "u"
password_file = "/etc/ec2boot/a.secret"
`
			cfg, ps := Load(Source{Name: "user-data", Data: []byte(doc)})
			if cfg != nil || len(ps.Errors()) != 2 {
				t.Fatalf("want 2 errors (server, imds.endpoint), got %v", problemStrings(ps))
			}
			for _, p := range ps {
				if s := p.String(); strings.Contains(s, pw) {
					t.Errorf("problem repeats the password: %s", s)
				}
			}
			if err := ps.Err(); strings.Contains(err.Error(), pw) {
				t.Errorf("error repeats the password: %v", err)
			}
		})
	}
}

func TestPasswordMustBeAString(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"123", "user-data:4:12: dns.accounts.a.password: a password must be a string in quotes, not an integer"},
		{"true", "user-data:4:12: dns.accounts.a.password: a password must be a string in quotes, not a boolean"},
		{"1.5", "user-data:4:12: dns.accounts.a.password: a password must be a string in quotes, not a float"},
	} {
		doc := "[dns.accounts.a]\nserver = \"https://x.example\"\nusername = \"u\"\npassword = " + tc.value + "\n"
		cfg, ps := Load(Source{Name: "user-data", Data: []byte(doc)})
		if cfg != nil {
			t.Errorf("password = %s accepted", tc.value)
		}
		if diff := cmp.Diff([]string{tc.want}, problemStrings(ps)); diff != "" {
			t.Errorf("password = %s (-want +got):\n%s", tc.value, diff)
		}
	}
}

func writeSecret(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a.secret")
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPasswordFile(t *testing.T) {
	ctx := context.Background()
	good := writeSecret(t, "hunter2-long\nignored\n", 0o600)
	pw, warnings, err := LoadSecret(ctx, Secret{}, "/etc/ec2boot/a.secret", good)
	if err != nil || pw.Reveal() != "hunter2-long" || len(warnings) != 0 {
		t.Errorf("0600 root file: %q %v %v", pw.Reveal(), warnings, err)
	}

	open := writeSecret(t, "hunter2-long\n", 0o644)
	_, warnings, err = LoadSecret(ctx, Secret{}, "/etc/ec2boot/a.secret", open)
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "/etc/ec2boot/a.secret: mode 0644 lets other users read the password") {
		t.Errorf("0644 file: warnings %q, err %v", warnings, err)
	}

	if os.Geteuid() == 0 {
		owned := writeSecret(t, "hunter2-long\n", 0o600)
		if err := os.Chown(owned, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		_, warnings, err = LoadSecret(ctx, Secret{}, "/etc/ec2boot/a.secret", owned)
		if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "owned by uid 65534, not root") {
			t.Errorf("file owned by nobody: warnings %q, err %v", warnings, err)
		}
	}
}

func TestPasswordFileRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(writeSecret(t, "pw\n", 0o600), link); err != nil {
		t.Fatal(err)
	}
	big := writeSecret(t, strings.Repeat("x", MaxPasswordFile+1), 0o600)
	empty := writeSecret(t, "\n", 0o600)
	for _, tc := range []struct{ name, path, want string }{
		{"fifo", fifo, "password_file /etc/ec2boot/a.secret: not a regular file (a FIFO)"},
		{"directory", dir, "password_file /etc/ec2boot/a.secret: not a regular file (a directory)"},
		{"symlink", link, "password_file /etc/ec2boot/a.secret: is a symbolic link; give the file itself"},
		{"too large", big, "password_file /etc/ec2boot/a.secret: 4097 bytes: larger than 4096, not a password file"},
		{"empty", empty, "password_file /etc/ec2boot/a.secret: empty"},
		{"missing", filepath.Join(dir, "none"), "password_file /etc/ec2boot/a.secret: no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _, err := LoadSecret(ctx, Secret{}, "/etc/ec2boot/a.secret", tc.path)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if ctx.Err() != nil {
				t.Fatalf("returned only when the deadline passed")
			}
		})
	}
}
