package run

import (
	"github.com/ec2boot/ec2boot/bootstrap/ddns"
	"github.com/ec2boot/ec2boot/bootstrap/diskguard"
	"github.com/ec2boot/ec2boot/bootstrap/factsfile"
	"github.com/ec2boot/ec2boot/bootstrap/hosts"
	"github.com/ec2boot/ec2boot/bootstrap/publish"
	"github.com/ec2boot/ec2boot/bootstrap/relocate"
	"github.com/ec2boot/ec2boot/bootstrap/render"
	"github.com/ec2boot/ec2boot/bootstrap/step"
)

// Steps returns the steps of `ec2boot run` in their fixed, documented order:
//
//  1. facts     write the instance facts for other units (facts.env, facts.json)
//  2. relocate  mount the instance store and move logs and temp dirs onto it
//  3. ddns      register this instance's names with dynamic DNS
//  4. publish   this instance's own address under the DNS role records it
//     is a member of (peers.discover.<role>.publish)
//  5. hosts     the managed block in /etc/hosts (peers and own names)
//  6. render    application config files from templates, then their actions
//  7. disk      report root and instance-store usage; degraded past threshold
//
// A failing step does not stop the ones after it: each depends only on the
// facts and config, never on an earlier step having succeeded.
func Steps() []step.Step {
	// Peers are resolved at most once per run, shared by hosts and render.
	peers := hosts.SharedPeers()
	return []step.Step{
		// Each package adds its step here, in the order above.
		factsfile.NewStep(),
		relocate.New(),
		ddns.NewStep(),
		publish.New(),
		hosts.New(peers),
		render.New(peers),
		diskguard.New(),
	}
}

// usesNames reports whether a step works with the configured names (record
// and peer names, and the instance's own names in /etc/hosts and in
// templates): when a name cannot be made from its template, these do
// nothing at all rather than act on a partial list.
func usesNames(step string) bool {
	switch step {
	case "ddns", "hosts", "render":
		return true
	}
	return false
}
