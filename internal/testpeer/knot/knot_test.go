package knot

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestACLLimitsTheKeyToItsName: the key may change web and nothing else,
// and the database directory exists (without it every update fails).
func TestACLLimitsTheKeyToItsName(t *testing.T) {
	s := Start(t, Options{Zone: "example.test", Keys: []string{"web-key"},
		ACL: "  - id: web\n    key: web-key\n    action: update\n    update-owner: name\n    update-owner-match: equal\n    update-owner-name: [web]\n"})
	update := func(name string) int {
		m := new(dns.Msg)
		m.SetUpdate("example.test.")
		rr, err := dns.NewRR(name + " 60 IN A 192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		m.Insert([]dns.RR{rr})
		m.SetTsig("web-key.", dns.HmacSHA256, 300, time.Now().Unix())
		c := &dns.Client{Net: "tcp", TsigSecret: map[string]string{"web-key.": s.Secrets["web-key"]}, Timeout: 5 * time.Second}
		r, _, err := c.Exchange(m, s.Addr)
		if r == nil {
			t.Fatalf("update of %s: %v\n%s", name, err, s.Log())
		}
		return r.Rcode
	}
	if rc := update("web.example.test."); rc != dns.RcodeSuccess {
		t.Errorf("granted name: %s\n%s", dns.RcodeToString[rc], s.Log())
	}
	if rc := update("db.example.test."); rc != dns.RcodeNotAuth {
		t.Errorf("name outside the ACL: %s, want NOTAUTH", dns.RcodeToString[rc])
	}
}
