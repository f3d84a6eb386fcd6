package dyndns

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func get(t *testing.T, s *Server, query, user, pass string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/nic/update?"+query, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	req.Header.Set("User-Agent", "test/1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestBehavesLikeDyn(t *testing.T) {
	s := &Server{Users: map[string]string{"u": "p"}, Hosts: map[string][]string{"u": {"a.example.test", "b.example.test"}}}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	many := strings.Repeat("a.example.test,", 20) + "a.example.test"
	steps := []struct {
		query, user, pass string
		status            int
		body              string
	}{
		{"hostname=a.example.test&myip=192.0.2.1", "u", "wrong", 401, "badauth"},
		{"hostname=a.example.test&myip=192.0.2.1", "", "", 401, "badauth"},
		{"hostname=a.example.test,b.example.test&myip=192.0.2.1,2001:db8::1", "u", "p", 200, "good 192.0.2.1,2001:db8::1\ngood 192.0.2.1,2001:db8::1"},
		{"hostname=a.example.test&myip=192.0.2.1,2001:db8::1", "u", "p", 200, "nochg 192.0.2.1,2001:db8::1"},
		// Only IPv4: Dyn deletes the AAAA record.
		{"hostname=a.example.test&myip=192.0.2.1", "u", "p", 200, "good 192.0.2.1"},
		{"hostname=c.example.test&myip=192.0.2.1", "u", "p", 200, "nohost"},
		{"hostname=nodots&myip=192.0.2.1", "u", "p", 200, "notfqdn"},
		{"hostname=" + many + "&myip=192.0.2.1", "u", "p", 200, "numhost"},
		{"hostname=a.example.test", "u", "p", 200, "dnserr"},
	}
	for i, st := range steps {
		status, body := get(t, s, st.query, st.user, st.pass)
		if status != st.status || body != st.body {
			t.Errorf("step %d %s: %d %q, want %d %q", i, st.query, status, body, st.status, st.body)
		}
	}
	a, _ := s.lookup(t.Context(), "a.example.test")
	if diff := cmp.Diff([]netip.Addr{netip.MustParseAddr("192.0.2.1")}, a, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
		t.Errorf("a.example.test (-want +got):\n%s", diff)
	}
	reqs := s.Requests()
	if len(reqs) != len(steps) || reqs[2].User != "u" || !reqs[2].AuthHeader || reqs[1].AuthHeader ||
		reqs[8].HasMyIP || reqs[2].UserAgent != "test/1" || len(reqs[2].Hostnames) != 2 {
		t.Errorf("recorded requests: %+v", reqs)
	}
}

func TestScriptedReplies(t *testing.T) {
	s := &Server{Users: map[string]string{"u": "p"}}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Script(Reply{Body: "911"}, Reply{Status: 503, Body: "down"}, Reply{Body: "good\nnohost", Update: true})
	q := "hostname=a.example.test,b.example.test&myip=192.0.2.1"
	for i, want := range []string{"200 911", "503 down", "200 good\nnohost", "200 nochg 192.0.2.1\ngood 192.0.2.1"} {
		status, body := get(t, s, q, "u", "p")
		if got := fmt.Sprintf("%d %s", status, body); got != want {
			t.Errorf("reply %d = %q, want %q", i, got, want)
		}
	}
}
