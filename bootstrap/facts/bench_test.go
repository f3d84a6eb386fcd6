package facts_test

import (
	"context"
	"testing"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/fakeimds"
)

// BenchmarkGatherEmulator is the whole gathering as a run does it (a new
// client, so one token request each time) against AWS's emulator.
func BenchmarkGatherEmulator(b *testing.B) {
	srv := aemm.Start(b, emulated)
	o := opts("10.200.0.1")
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := facts.Gather(ctx, benchClient(b, srv.URL), o); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}

func BenchmarkGatherFake(b *testing.B) {
	srv := fakeimds.New(b, fakeimds.Metadata())
	o := opts("10.1.2.3")
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := facts.Gather(ctx, benchClient(b, srv.URL), o); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}

// BenchmarkGatherLatency compares a gathering without tags in the metadata
// and one with tags, every answer held back 20 ms as a slow metadata service
// would: the tags' listing and values run beside the other values (like
// ipv6s after mac), so both take the same number of round trips.
func BenchmarkGatherLatency(b *testing.B) {
	for _, bc := range []struct {
		name string
		md   map[string]string
	}{{"no-tags", fakeimds.Metadata()}, {"tags", fleetMetadata()}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := fakeimds.New(b, bc.md)
			srv.SetFaults(fakeimds.Faults{Delay: 20 * time.Millisecond})
			o := opts("10.1.2.3")
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if _, err := facts.Gather(ctx, benchClient(b, srv.URL), o); err != nil {
					b.Fatal(err)
				}
				cancel()
			}
		})
	}
}
