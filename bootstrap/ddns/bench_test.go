package ddns

import (
	"context"
	"testing"
)

// The benchmarks run the whole step (plan + apply) for the two-name
// example against the loopback test server and DNS responder. They report
// provider requests and DNS queries per run next to the time, so that a
// regression in either shows up.

func benchRun(b *testing.B, force bool) {
	h := newHarness(b)
	h.dyn.Log = nil
	if r := h.run(false); r.err != nil {
		b.Fatal(r.err)
	}
	var requests, queries int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := h.newStep().Plan(context.Background(), h.env(false, force))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Apply(context.Background()); err != nil {
			b.Fatal(err)
		}
		requests += p.(*Plan).Requests()
		queries += p.(*Plan).DNSQueries()
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(queries)/float64(b.N), "dnsqueries/op")
}

func BenchmarkNoChangeRun(b *testing.B) { benchRun(b, false) }
func BenchmarkForcedRun(b *testing.B)   { benchRun(b, true) }
