package ddns

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

// TestInterruptedRequestIsNoProviderFailure: SIGTERM while a request is
// under way is not the provider's failure: nothing is recorded against the
// account or the names, the error says interrupted, and the next run sends.
func TestInterruptedRequestIsNoProviderFailure(t *testing.T) {
	h := newHarness(t)
	h.dyn.Script(dyndns.Reply{Hang: true})
	p, err := h.newStep().Plan(context.Background(), h.env(false, false))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for h.dyn.Count() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err = p.Apply(ctx)
	if err == nil || !strings.Contains(err.Error(), "interrupted before the provider answered") {
		t.Fatalf("interrupted apply: %v; want it to say interrupted", err)
	}
	st := h.loadState()
	if len(st.Accounts) != 0 || len(st.Hosts) != 0 || len(st.Records) != 0 {
		t.Errorf("state after an interrupted request: accounts %v hosts %v records %v", st.Accounts, st.Hosts, st.Records)
	}
	if r := h.run(false); r.err != nil || r.requests == 0 {
		t.Errorf("the next run: err=%v, %d request(s)", r.err, r.requests)
	}
}
