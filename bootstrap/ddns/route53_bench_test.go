package ddns

import (
	"context"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
)

// The Route 53 benchmarks run the whole step (plan + apply, two names)
// against the loopback Route 53 peer, with credentials from the metadata
// emulator fetched anew by every run as a fresh process would. Cold: a
// first registration into an empty zone (2 List, 1 Change). No change: a
// run that finds everything right (2 List, no Change).

func benchRoute53(b *testing.B, cold bool) {
	w := newR53World(b)
	t0 := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	in := w.instance(b, "i-0be0c000000000001", t0, publicIP)
	if _, got := in.run(); got != "list=2 change=1" {
		b.Fatalf("first run: %s", got)
	}
	before := w.peer.Counts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if cold {
			b.StopTimer()
			z, err := w.peer.AddHostedZone("example.test", false)
			if err != nil {
				b.Fatal(err)
			}
			w.zone = z
			in = w.instance(b, "i-0be0c000000000001", t0, publicIP)
			b.StartTimer()
		}
		p, err := NewStep().Plan(context.Background(), in.env(false))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Apply(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	after := w.peer.Counts()
	per := func(k string) float64 {
		return float64(after[awsapi.Route53+":"+k]-before[awsapi.Route53+":"+k]) / float64(b.N)
	}
	b.ReportMetric(per("ListResourceRecordSets"), "lists/op")
	b.ReportMetric(per("ChangeResourceRecordSets"), "changes/op")
}

func BenchmarkRoute53ColdRun(b *testing.B)     { benchRoute53(b, true) }
func BenchmarkRoute53NoChangeRun(b *testing.B) { benchRoute53(b, false) }
