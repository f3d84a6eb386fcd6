package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/cli"
)

// stepTimes reads each step's duration from the run's status file.
func stepTimes(root string) map[string]float64 {
	b, err := os.ReadFile(filepath.Join(root, "run/ec2boot/status.json"))
	if err != nil {
		return nil
	}
	var st struct {
		Duration float64 `json:"duration_ms"`
		Steps    []struct {
			Name     string  `json:"name"`
			Duration float64 `json:"duration_ms"`
		} `json:"steps"`
	}
	if json.Unmarshal(b, &st) != nil {
		return nil
	}
	out := map[string]float64{"(whole run, in-process)": st.Duration}
	for _, s := range st.Steps {
		out[s.Name] = s.Duration
	}
	return out
}

// profile runs the cold boot job and the no-change re-run in this process,
// n times each, under the CPU profiler, at zero added latency: the same
// code as the binary, so that `go tool pprof` can name what costs.
func (b *bench) profile(n int) error {
	b.setLatency(0)
	g := func(root string) *cli.Globals {
		return &cli.Globals{Root: root, ConfigPath: "/etc/ec2boot/config.toml", IMDSEndpoint: "http://" + b.imds.Addr,
			LookupEnv: func(string) (string, bool) { return "", false }, Stdout: os.Stdout,
			Log: zerolog.Nop(), Version: "bench-profile"}
	}
	prof := func(name string, setup func(i int) (string, error), after func(root string) error) error {
		f, err := os.Create(filepath.Join(b.opt.out, name+".pprof"))
		if err != nil {
			return err
		}
		defer f.Close()
		var spent time.Duration
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
		for i := 0; i < n; i++ {
			root, err := setup(i)
			if err != nil {
				return err
			}
			t := time.Now()
			if code := cli.Run(context.Background(), g(root), cli.RunFlags{}); code != 0 {
				return fmt.Errorf("%s: in-process run exited %d", name, code)
			}
			spent += time.Since(t)
			if err := after(root); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "bench: profile %s: %d runs, %.2f ms each in-process\n", name, n, float64(spent.Microseconds())/1000/float64(n))
		// What the runs allocated (with the driver's own setup), for
		// `go tool pprof -sample_index=alloc_space`: peak RSS is mostly
		// the binary and the heap the collector lets grow.
		runtime.GC()
		af, err := os.Create(filepath.Join(b.opt.out, name+".allocs.pprof"))
		if err != nil {
			return err
		}
		defer af.Close()
		return pprof.Lookup("allocs").WriteTo(af, 0)
	}
	// Sample allocations finely (the default is one per 512 KiB).
	runtime.MemProfileRate = 4096
	spec := rootSpec{config: expand(fullConfig, b.dns.Addr, b.provider.Addr, true),
		relocate: true, dirs: true, templates: filepath.Join(b.opt.src, "templates")}
	coldRoot := b.scratch("profile-cold")
	if err := prof("cold", func(i int) (string, error) {
		_ = removeRoot(coldRoot)
		if err := b.restartProvider(staleSelf); err != nil {
			return "", err
		}
		return coldRoot, makeRoot(coldRoot, spec)
	}, func(root string) error { return removeRoot(root) }); err != nil {
		return err
	}
	noopRoot := b.scratch("profile-noop")
	_ = removeRoot(noopRoot)
	if err := makeRoot(noopRoot, spec); err != nil {
		return err
	}
	defer removeRoot(noopRoot)
	if code := cli.Run(context.Background(), g(noopRoot), cli.RunFlags{}); code != 0 {
		return fmt.Errorf("profile: first run exited %d", code)
	}
	return prof("nochange", func(int) (string, error) { return noopRoot, nil }, func(string) error { return nil })
}
