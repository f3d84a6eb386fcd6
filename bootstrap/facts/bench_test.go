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
