package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
)

// Facts is `ec2boot facts [--json]`.
func Facts(ctx context.Context, g *Globals, asJSON bool) int {
	md, _, err := newMetadata(g, false)
	if err != nil {
		return g.usageError("facts", err)
	}
	imdsCfg, problems := config.LoadIMDS(g.local())
	if err := problems.Err(); err != nil {
		g.Log.Error().Msg(err.Error())
		return ExitUsage
	}
	f, err := md.Facts(ctx, imdsCfg)
	if err != nil {
		g.Log.Error().Msg(err.Error())
		return ExitNoMetadata
	}
	// Cached facts are printed, but the exit code says the service was not
	// reached, as run's does: a script must not take them for fresh ones.
	code := ExitOK
	if f.Source == facts.SourceCache {
		g.Log.Warn().Str("instance_id", f.InstanceID).Msg("printing the last known facts: " + f.Degraded)
		code = ExitNoMetadata
	}
	if asJSON {
		enc := json.NewEncoder(g.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(f); err != nil {
			return ExitStepFailed
		}
		return code
	}
	printFacts(g.Stdout, f)
	return code
}

func printFacts(w io.Writer, f *facts.Facts) {
	addr := func(kind string) string {
		if a, ok := f.Address(kind); ok {
			return a.String()
		}
		return "(none)"
	}
	rows := [][2]string{
		{"instance-id", f.InstanceID},
		{"image-id", f.ImageID},
		{"instance-type", f.InstanceType},
		{"region", f.Region},
		{"availability-zone", f.AvailabilityZone},
		{"local-ipv4", addr(facts.LocalIPv4)},
		{"public-ipv4", addr(facts.PublicIPv4)},
		{"ipv6", addr(facts.IPv6)},
		{"local-hostname", f.LocalHostname},
		{"public-hostname", f.PublicHostname},
		{"mac", f.MAC},
	}
	var devs []string
	for name, dev := range f.BlockDevices {
		devs = append(devs, name+"="+dev)
	}
	sort.Strings(devs)
	rows = append(rows, [2]string{"block-devices", strings.Join(devs, " ")})
	rows = append(rows, [2]string{"instance-stores", strings.Join(f.InstanceStores, " ")})
	launchIndex, launchTime := "", ""
	if f.LaunchIndex != nil {
		launchIndex = fmt.Sprint(*f.LaunchIndex)
	}
	if !f.LaunchTime.IsZero() {
		launchTime = f.LaunchTime.UTC().Format(time.RFC3339)
	}
	tags := "(not in the metadata)"
	if f.TagsAvailable {
		var kv []string
		for k, v := range f.Tags {
			kv = append(kv, k+"="+strconv.Quote(v))
		}
		sort.Strings(kv)
		tags = strings.Join(kv, " ")
	}
	rows = append(rows, [][2]string{{"ami-launch-index", launchIndex}, {"life-cycle", f.LifeCycle},
		{"target-lifecycle", f.TargetLifecycleState}, {"launch-time", launchTime}, {"tags", tags}}...)
	if f.Degraded != "" {
		rows = append(rows, [2]string{"degraded", f.Degraded})
	}
	for _, r := range rows {
		v := r[1]
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(w, "%-18s %s\n", r[0]+":", v)
	}
}
