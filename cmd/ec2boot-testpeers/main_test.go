package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestServesUpdatesAndAnswersThem(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw2 := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-http", "127.0.0.1:0", "-dns", "127.0.0.1:0", "-password-file", pw}, pw2, io.Discard)
		pw2.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line: %v", err)
	}
	fields := map[string]string{}
	for _, f := range strings.Fields(line)[1:] {
		k, v, _ := strings.Cut(f, "=")
		fields[k] = v
	}
	go io.Copy(io.Discard, pr)

	req, _ := http.NewRequest("GET", fields["http"]+"/nic/update?hostname=web.example.test&myip=192.0.2.5", nil)
	req.SetBasicAuth("demo", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != "good 192.0.2.5" {
		t.Fatalf("update answered %q", body)
	}
	m := new(dns.Msg)
	m.SetQuestion("web.example.test.", dns.TypeA)
	r, err := dns.Exchange(m, fields["dns"])
	if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.5" {
		t.Fatalf("DNS answer %v, %v", r, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPasswordFileRequired(t *testing.T) {
	if err := run(context.Background(), []string{"-http", "127.0.0.1:0"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "password-file") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseSeed(t *testing.T) {
	sd, err := parseSeed("db-1.example.test=10.0.1.11,2001:db8::11")
	if err != nil || sd.name != "db-1.example.test" || len(sd.addrs) != 2 || sd.addrs[1].String() != "2001:db8::11" {
		t.Fatalf("parseSeed = %+v, %v", sd, err)
	}
	for _, bad := range []string{"db-1", "=10.0.0.1", "db-1=", "db-1=10.0.0.300"} {
		if _, err := parseSeed(bad); err == nil {
			t.Errorf("parseSeed(%q) accepted", bad)
		}
	}
}
