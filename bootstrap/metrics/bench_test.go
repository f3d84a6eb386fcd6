package metrics

import (
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/hostfs"
)

// BenchmarkWriteNoChange is what metrics add to a run that changes nothing:
// gather, encode and write the file (its times differ every run, so it is
// always rewritten).
func BenchmarkWriteNoChange(b *testing.B) {
	root := hostfs.Root(b.TempDir())
	rep, recs := sample(time.Unix(1700000000, 0))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rep.StartedAt = rep.StartedAt.Add(5 * time.Minute)
		if err := Write(root, "/var/lib/node-exporter/ec2boot.prom", rep, recs); err != nil {
			b.Fatal(err)
		}
	}
}
