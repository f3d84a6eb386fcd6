// Package peers resolves the configured peer roles to addresses, once per
// run, for the hosts and render steps. A peer that stops resolving keeps its
// last known address for peers.stale_after; a result that would empty a role
// or shrink it past peers.min_keep is marked refused, and the steps that
// write files then keep the old ones.
package peers

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/interrupt"
	"github.com/ec2boot/ec2boot/bootstrap/state"
)

// StateName is the state file (under the state directory) that remembers
// peers between runs.
const StateName = "peers"

// maxParallel bounds concurrent lookups.
const maxParallel = 16

// Source says where a host's addresses came from.
type Source string

// The sources of addresses.
const (
	FromDNS   Source = "dns"
	FromSelf  Source = "self"  // one of this instance's own names
	FromStale Source = "stale" // last known address; the name no longer resolves
	FromEC2   Source = "ec2"   // found by its tags (DescribeInstances)
)

// Host is one name and its addresses, IPv4 first.
type Host struct {
	Name   string
	Role   string // "" for the instance's own names
	Addrs  []netip.Addr
	Source Source
	// FailingSince is when a stale host last resolved (its age).
	FailingSince time.Time
	// Problem says why a stale or missing host did not resolve.
	Problem string
	// InstanceID and Tags are the member's, for roles found by EC2 tags.
	InstanceID string
	Tags       map[string]string
}

// Set is the outcome of one resolution.
type Set struct {
	// Roles holds, per configured role, the hosts that have addresses, in
	// the configured order.
	Roles map[string][]Host
	// Self holds the instance's own names (from dns.records and facts).
	Self []Host
	// Stale are role members kept at their last known address.
	Stale []Host
	// Missing are role members left out: never resolved, or stale for
	// longer than peers.stale_after.
	Missing []Host
	// Warnings are one line each, for logs and plan: addresses rejected.
	// Stale and missing peers are in Degraded and Describe.
	Warnings []string
	// Refusals say why files built from this set must not be written.
	Refusals []string
	// RoleProblems are one line per discovered role whose source did not
	// answer: kept at its last known members, or empty.
	RoleProblems []string

	now        time.Time
	mem        memory
	roles      map[string]int
	configured map[string]bool
	maxAddrs   int
	// remember saves the memory once per resolution, however many steps
	// (hosts, render) share this set.
	remember    sync.Once
	rememberErr error
	// disc is what to remember of each discovered role.
	disc      map[string]discovered
	roleEmpty map[string]string // why a discovered role has no member
}

// Refused returns an error naming every reason the set must not be
// written, or nil.
func (s *Set) Refused() error {
	if len(s.Refusals) == 0 {
		return nil
	}
	return fmt.Errorf("peers: refusing to write: %s", strings.Join(s.Refusals, "; "))
}

// Degraded lists the conditions monitoring should see: stale and missing
// peers.
func (s *Set) Degraded() []string {
	out := slices.Clone(s.RoleProblems)
	for _, h := range s.Stale {
		out = append(out, fmt.Sprintf("peer %s (role %s) is stale: kept at its last known %s, not resolving for %s (since %s): %s", h.Name, h.Role, joinAddrs(h.Addrs), age(s.now, h.FailingSince), h.FailingSince.UTC().Format(time.RFC3339), h.Problem))
	}
	for _, h := range s.Missing {
		out = append(out, fmt.Sprintf("peer %s (role %s) is missing: %s", h.Name, h.Role, h.Problem))
	}
	return out
}

// Describe writes the stale and missing peers and any refusal, for plan.
func (s *Set) Describe(w io.Writer) {
	for _, p := range s.RoleProblems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	for _, h := range s.Stale {
		fmt.Fprintf(w, "  stale peer %s (role %s): kept at %s, not resolving for %s (%s)\n", h.Name, h.Role, joinAddrs(h.Addrs), age(s.now, h.FailingSince), h.Problem)
	}
	for _, h := range s.Missing {
		fmt.Fprintf(w, "  missing peer %s (role %s): %s\n", h.Name, h.Role, h.Problem)
	}
	for _, r := range s.Refusals {
		fmt.Fprintf(w, "  REFUSED: %s\n", r)
	}
}

// Input is what a resolution needs.
type Input struct {
	Config *config.Config
	Facts  *facts.Facts // nil when unknown: no own names
	State  *state.Store // nil: nothing remembered
	Clock  clock.Clock
	// Resolver overrides the one chosen from the config (tests).
	Resolver Resolver
	// Sources overrides the source of discovered roles by role (tests).
	Sources map[string]RoleSource
	// Force asks a source again that denied access in an earlier run.
	Force bool
	// Fallback returns the addresses the hosts file currently holds for
	// managed names, and when it was written; used for names the state does
	// not know (a lost or foreign state directory).
	Fallback func() (map[string][]netip.Addr, time.Time)
}

// Lazy returns a function that resolves on its first call and returns the
// same result afterwards, so the hosts and render steps share one
// resolution per run.
func Lazy(in Input) func(context.Context) (*Set, error) {
	var once sync.Once
	var set *Set
	var err error
	return func(ctx context.Context) (*Set, error) {
		once.Do(func() { set, err = Resolve(ctx, in) })
		return set, err
	}
}

// Resolve looks up every configured peer.
func Resolve(ctx context.Context, in Input) (*Set, error) {
	cfg := in.Config.Peers
	now := in.Clock.Now()
	set := &Set{Roles: map[string][]Host{}, now: now, roles: map[string]int{}, configured: map[string]bool{}, maxAddrs: cfg.MaxAddresses,
		disc: map[string]discovered{}, roleEmpty: map[string]string{}}
	mem, err := loadMemory(in.State)
	if err != nil {
		return nil, err
	}
	// "Failing since 2099" would never be old enough to drop: a time in
	// the future counts as now, and the next save writes it so.
	future := clock.Future{Now: now}
	for name, k := range mem.Hosts {
		if k.FailingSince != nil {
			t := *k.FailingSince
			future.Past(&t)
			k.FailingSince = &t
			mem.Hosts[name] = k
		}
	}
	// The instance's own names are never looked up, so there is nothing to
	// remember about them, whatever the hosts file says.
	own := ownNames(in.Config, in.Facts)
	for name := range own {
		delete(mem.Hosts, name)
	}
	if in.Fallback != nil {
		fb, when := in.Fallback()
		future.Past(&when) // the hosts file's mtime, from the same clock
		for name, addrs := range fb {
			if _, self := own[name]; self {
				continue
			}
			if _, ok := mem.Hosts[name]; !ok && len(addrs) > 0 {
				mem.Hosts[name] = known{Addrs: addrs, FailingSince: &when}
			}
		}
	}
	set.mem = mem
	if msg := future.String(); msg != "" {
		set.Warnings = append(set.Warnings, "peers state: "+msg)
	}

	for _, name := range sortedKeys(own) {
		set.Self = append(set.Self, Host{Name: name, Addrs: own[name], Source: FromSelf})
	}

	var names []string
	for _, role := range cfg.RoleNames() {
		// A listed role's members are names without addresses: each is
		// looked up on its own, and goes stale on its own.
		members, _ := Static(cfg.Roles[role]).Members(ctx)
		for _, m := range members {
			n := m.Name
			set.configured[n] = true
			if _, self := own[n]; !self && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	res := in.Resolver
	if res == nil {
		res = SystemResolver{}
		if ns := cfg.NameserverAddr(); ns != "" {
			res = DirectResolver{Server: ns}
		}
	}
	found := lookupAll(ctx, res, names, cfg.Timeout.Duration)
	if interrupt.Cancelled(ctx) {
		// A lookup cut short by the run's interruption says nothing about
		// the peer: nothing is marked failing or stale, nothing is kept.
		return nil, fmt.Errorf("peers: lookups interrupted: %w", context.Cause(ctx))
	}

	for _, role := range cfg.RoleNames() {
		// Every configured role is present, empty or not, so templates
		// can tell "no peers" from "no such role".
		set.Roles[role] = []Host{}
		members, _ := Static(cfg.Roles[role]).Members(ctx)
		for _, m := range members {
			name := m.Name
			h := Host{Name: name, Role: role}
			if addrs, ok := own[name]; ok {
				h.Addrs, h.Source = addrs, FromSelf
				set.Roles[role] = append(set.Roles[role], h)
				continue
			}
			r := found[name]
			good, rejected := usable(r.addrs)
			for i, w := range rejected {
				if i == maxRejectedShown && len(rejected) > i+1 {
					set.Warnings = append(set.Warnings, fmt.Sprintf("peer %s (role %s): %d more addresses rejected", name, role, len(rejected)-i))
					break
				}
				set.Warnings = append(set.Warnings, fmt.Sprintf("peer %s (role %s): %s", name, role, w))
			}
			good = set.capAddrs(name, role, good, cfg.MaxAddresses)
			if len(good) > 0 {
				h.Addrs, h.Source = good, FromDNS
				set.Roles[role] = append(set.Roles[role], h)
				set.mem.Hosts[name] = known{Addrs: good}
				continue
			}
			problem := "no usable address"
			if r.err != nil {
				problem = r.err.Error()
			}
			set.keepOrDrop(h, problem, cfg.StaleAfter.Duration)
		}
		set.roles[role] = len(set.Roles[role])
	}
	if err := set.discover(ctx, in, res); err != nil {
		return nil, err
	}
	set.guard(cfg)
	return set, nil
}

// keepOrDrop handles a peer that did not resolve.
func (s *Set) keepOrDrop(h Host, problem string, staleAfter time.Duration) {
	k, ok := s.mem.Hosts[h.Name]
	h.Problem = problem
	if !ok || len(k.Addrs) == 0 {
		h.Problem = problem + "; no address known from earlier runs"
		s.Missing = append(s.Missing, h)
		return
	}
	since := s.now
	if k.FailingSince != nil {
		since = *k.FailingSince
	} else {
		k.FailingSince = &since
		s.mem.Hosts[h.Name] = k
	}
	h.FailingSince = since
	if s.now.Sub(since) > staleAfter {
		h.Problem = fmt.Sprintf("%s; dropped: last resolved %s ago, more than peers.stale_after %s", problem, age(s.now, since), staleAfter)
		s.Missing = append(s.Missing, h)
		return
	}
	good, _ := usable(k.Addrs)
	h.Addrs, h.Source = s.capAddrs(h.Name, h.Role, good, s.maxAddrs), FromStale
	s.Roles[h.Role] = append(s.Roles[h.Role], h)
	s.Stale = append(s.Stale, h)
}

// maxRejectedShown bounds the warnings about one name's rejected addresses.
const maxRejectedShown = 8

// capAddrs keeps at most max of a peer's addresses, which usable has
// sorted (IPv4 first, then by value), so the same answer always keeps the
// same ones whatever order DNS gave them in; it warns when it drops any.
func (s *Set) capAddrs(name, role string, addrs []netip.Addr, max int) []netip.Addr {
	if max <= 0 || len(addrs) <= max {
		return addrs
	}
	s.Warnings = append(s.Warnings, fmt.Sprintf("peer %s (role %s): %d addresses, more than peers.max_addresses = %d: kept the %d lowest (IPv4 first), dropped %d",
		name, role, len(addrs), max, max, len(addrs)-max))
	return addrs[:max:max]
}

// guard refuses results that would empty a role or shrink it too far: a
// DNS hiccup must not empty an upstream list.
func (s *Set) guard(cfg config.Peers) {
	if cfg.AllowEmpty {
		return
	}
	for _, role := range cfg.AllRoleNames() {
		n, prev := s.roles[role], s.mem.Roles[role]
		switch {
		case n == 0:
			s.Refusals = append(s.Refusals, fmt.Sprintf("role %s would be empty (%s); set peers.allow_empty = true to allow it", role, s.missingIn(role)))
		case prev > 0 && float64(n) < float64(prev)*cfg.MinKeep:
			s.Refusals = append(s.Refusals, fmt.Sprintf("role %s would shrink from %d to %d peers, below peers.min_keep = %g (%s); set peers.allow_empty = true to allow it", role, prev, n, cfg.MinKeep, s.missingIn(role)))
		}
	}
}

func (s *Set) missingIn(role string) string {
	var parts []string
	for _, h := range s.Missing {
		if h.Role == role {
			parts = append(parts, h.Name+": "+h.Problem)
		}
	}
	if why := s.roleEmpty[role]; why != "" {
		parts = append(parts, why)
	}
	if len(parts) == 0 {
		return "no peers configured"
	}
	return strings.Join(parts, ", ")
}

// Remember saves what this run learned: the addresses of resolved peers,
// when failing ones stopped resolving, and (only when the set was not
// refused) each role's size for the next run's shrink check. Call it from
// Apply, never from Plan. It writes nothing when nothing changed, and only
// the first call on a set saves: the hosts and render steps share one.
func (s *Set) Remember(store *state.Store) error {
	if store == nil {
		return nil
	}
	s.remember.Do(func() { s.rememberErr = s.save(store) })
	return s.rememberErr
}

func (s *Set) save(store *state.Store) error {
	mem := memory{Hosts: map[string]known{}, Roles: map[string]int{}, Discovered: map[string]discovered{}}
	for role, d := range s.disc {
		if len(s.Refusals) > 0 {
			// A refused answer is not learnt: the last accepted members
			// stay what an outage falls back to.
			d.Members = s.mem.Discovered[role].Members
		}
		mem.Discovered[role] = d
	}
	for name, k := range s.mem.Hosts {
		// Forget peers no longer configured and those dropped as stale.
		if s.configured[name] && (k.FailingSince == nil || !s.isMissing(name)) {
			mem.Hosts[name] = k
		}
	}
	if len(s.Refusals) == 0 {
		for role, n := range s.roles {
			mem.Roles[role] = n
		}
	} else {
		mem.Roles = s.mem.Roles
	}
	return store.Save(StateName, mem, s.now)
}

func (s *Set) isMissing(name string) bool {
	for _, h := range s.Missing {
		if h.Name == name {
			return true
		}
	}
	return false
}

// Age formats how long ago t was, in whole minutes at least.
func age(now, t time.Time) string {
	d := now.Sub(t).Round(time.Minute)
	if d < time.Minute {
		return "under a minute"
	}
	return strings.TrimSuffix(d.String(), "0s")
}

type result struct {
	addrs []netip.Addr
	err   error
}

func lookupAll(ctx context.Context, r Resolver, names []string, timeout time.Duration) map[string]result {
	out := make(map[string]result, len(names))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxParallel)
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			lctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			addrs, err := r.Lookup(lctx, name)
			if err != nil {
				err = fmt.Errorf("lookup %s: %w", name, err)
			}
			mu.Lock()
			out[name] = result{addrs, err}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// usable sorts and deduplicates addresses (IPv4 first) and sets aside the
// ones no peer may have.
func usable(addrs []netip.Addr) (good []netip.Addr, rejected []string) {
	for _, a := range addrs {
		a = a.Unmap()
		if why := ReservedAddr(a); why != "" {
			rejected = append(rejected, fmt.Sprintf("address %s rejected: %s", a, why))
			continue
		}
		good = append(good, a)
	}
	slices.SortFunc(good, func(x, y netip.Addr) int {
		if x.Is4() != y.Is4() {
			if x.Is4() {
				return -1
			}
			return 1
		}
		return x.Compare(y)
	})
	return slices.Compact(good), rejected
}

// ownNames maps the instance's own names to its own addresses, so it can
// resolve itself before DNS has caught up.
func ownNames(cfg *config.Config, f *facts.Facts) map[string][]netip.Addr {
	own := map[string][]netip.Addr{}
	if f == nil {
		return own
	}
	add := func(name string, kinds ...string) {
		name = normalize(name)
		if name == "" || ReservedName(name) {
			return
		}
		for _, k := range kinds {
			if a, ok := f.Address(k); ok && !slices.Contains(own[name], a) && ReservedAddr(a) == "" {
				own[name] = append(own[name], a)
			}
		}
	}
	for _, r := range cfg.DNS.Records {
		add(r.Name, strings.Split(r.Address, "+")...)
	}
	add(f.LocalHostname, facts.LocalIPv4)
	for name, addrs := range own {
		if len(addrs) == 0 {
			delete(own, name)
		}
	}
	return own
}

func normalize(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

func joinAddrs(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare[string])
	return keys
}
