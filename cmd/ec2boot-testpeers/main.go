// Command ec2boot-testpeers runs the project's dyndns2 test server and an
// authoritative DNS server for its zone on loopback, for `make demo` and
// benchmarks: what the dyndns2 server accepts, the DNS server answers.
//
//	ec2boot-testpeers -http 127.0.0.1:8245 -dns 127.0.0.1:5353 -zone example.test \
//	    -user demo -password-file demo.secret
//
// It prints one "ready" line with both addresses, and logs one line per
// update request to stderr. SIGINT or SIGTERM stops it.
//
// With -aws ADDR it also serves the strict Route 53 / EC2 DescribeInstances
// peer (internal/testpeer/awsapi) with a public hosted zone for -zone that
// feeds the same DNS server; -aws-key-file holds the one key it accepts
// ("ACCESS_KEY_ID SECRET [SESSION_TOKEN]" on the first line). The ready
// line then adds aws=URL and zone-id=ID.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ec2boot/ec2boot/internal/testpeer/authdns"
	"github.com/ec2boot/ec2boot/internal/testpeer/awsapi"
	"github.com/ec2boot/ec2boot/internal/testpeer/dyndns"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ec2boot-testpeers:", err)
		os.Exit(2)
	}
}

// run serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ec2boot-testpeers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	httpAddr := fs.String("http", "127.0.0.1:8245", "dyndns2 server address (loopback)")
	dnsAddr := fs.String("dns", "127.0.0.1:5353", "authoritative DNS address, UDP and TCP (loopback)")
	zone := fs.String("zone", "example.test", "the zone the names live in")
	user := fs.String("user", "demo", "the account's username")
	pwFile := fs.String("password-file", "", "file whose first line is the account's password (required)")
	hosts := fs.String("hosts", "", "comma-separated names the account owns; others get nohost (default: any name)")
	awsAddr := fs.String("aws", "", "Route 53 / EC2 API peer address (loopback); off when empty")
	awsKeyFile := fs.String("aws-key-file", "", "file whose first line is \"ACCESS_KEY_ID SECRET [SESSION_TOKEN]\", the key the API peer accepts (required with -aws)")
	var seeds []seed
	fs.Func("seed", "`NAME=ADDR[,ADDR]`: a record that exists from the start (repeatable), as if another instance had registered it", func(v string) error {
		sd, err := parseSeed(v)
		seeds = append(seeds, sd)
		return err
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pwFile == "" {
		return errors.New("-password-file is required")
	}
	b, err := os.ReadFile(*pwFile)
	if err != nil {
		return err
	}
	password := strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r")

	dnsSrv := authdns.New(*zone)
	if err := dnsSrv.Start(*dnsAddr); err != nil {
		return err
	}
	defer dnsSrv.Close()
	for _, sd := range seeds {
		if err := dnsSrv.Update(ctx, sd.name, sd.addrs); err != nil {
			return fmt.Errorf("-seed %s: %w", sd.name, err)
		}
	}
	dyn := &dyndns.Server{Users: map[string]string{*user: password}, Backend: dnsSrv, Log: stderr}
	if *hosts != "" {
		dyn.Hosts = map[string][]string{*user: strings.Split(strings.ToLower(*hosts), ",")}
	}
	if err := dyn.Start(*httpAddr); err != nil {
		return err
	}
	defer dyn.Close()
	ready := fmt.Sprintf("ready http=%s dns=%s zone=%s", dyn.URL(), dnsSrv.Addr(), dnsSrv.Zone())
	if *awsAddr != "" {
		api, zoneID, err := startAWS(*awsAddr, *awsKeyFile, *zone, dnsSrv)
		if err != nil {
			return err
		}
		defer api.Close()
		ready += fmt.Sprintf(" aws=%s zone-id=%s", api.URL, zoneID)
	}
	fmt.Fprintln(stdout, ready)

	<-ctx.Done()
	fmt.Fprintf(stderr, "ec2boot-testpeers: stopped after %d update request(s), %d DNS queries\n", dyn.Count(), dnsSrv.Queries())
	return nil
}

type seed struct {
	name  string
	addrs []netip.Addr
}

func parseSeed(v string) (seed, error) {
	name, list, ok := strings.Cut(v, "=")
	if !ok || name == "" || list == "" {
		return seed{}, fmt.Errorf("-seed %q: want NAME=ADDR[,ADDR]", v)
	}
	sd := seed{name: name}
	for _, a := range strings.Split(list, ",") {
		addr, err := netip.ParseAddr(a)
		if err != nil {
			return seed{}, fmt.Errorf("-seed %q: %w", v, err)
		}
		sd.addrs = append(sd.addrs, addr)
	}
	return sd, nil
}

// startAWS serves the API peer with one key and a public zone that feeds
// the DNS server.
func startAWS(addr, keyFile, zone string, backend awsapi.Backend) (*awsapi.Server, string, error) {
	if keyFile == "" {
		return nil, "", errors.New("-aws needs -aws-key-file")
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, "", err
	}
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
	if len(f) < 2 || len(f) > 3 {
		return nil, "", fmt.Errorf("-aws-key-file %s: first line must be \"ACCESS_KEY_ID SECRET [SESSION_TOKEN]\"", keyFile)
	}
	key := awsapi.Credentials{AccessKeyID: f[0], SecretAccessKey: f[1]}
	if len(f) == 3 {
		key.Token = f[2]
	}
	api, err := awsapi.Listen(addr, awsapi.Options{Backend: backend})
	if err != nil {
		return nil, "", err
	}
	api.AddCredentials(key)
	z, err := api.AddHostedZone(zone, false)
	if err != nil {
		api.Close()
		return nil, "", err
	}
	return api, z.ID, nil
}
