package run

import (
	"fmt"
	"io"

	"github.com/rs/zerolog"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/names"
)

// expandedName is one name made from a template, for plan.
type expandedName struct {
	key, template, name string
}

// expandNames makes the configured names from their templates and the
// facts. When any cannot be made, each is logged as one line naming its
// key, the template and the missing fact; the configuration stays as it
// was and namesErr tells the steps that use names not to run.
func (in *input) expandNames(log zerolog.Logger) {
	if !in.cfg.HasNameTemplates() {
		return
	}
	expanded, problems := in.cfg.ExpandNames(in.facts.NameData())
	if err := problems.Err(); err != nil {
		for _, p := range problems {
			log.Error().Msg(p.String())
		}
		in.namesErr = err
		return
	}
	in.names = listExpanded(in.cfg, expanded)
	in.cfg = expanded
}

func listExpanded(tmpl, out *config.Config) []expandedName {
	var list []expandedName
	for i, r := range tmpl.DNS.Records {
		if names.IsTemplate(r.Name) {
			list = append(list, expandedName{fmt.Sprintf("dns.records[%d].name", i), r.Name, out.DNS.Records[i].Name})
		}
	}
	for _, role := range tmpl.Peers.RoleNames() {
		for i, n := range tmpl.Peers.Roles[role] {
			if names.IsTemplate(n) {
				list = append(list, expandedName{fmt.Sprintf("peers.roles.%s[%d]", role, i), n, out.Peers.Roles[role][i]})
			}
		}
	}
	return list
}

// describeNames writes, for plan, each name made from a template, or why
// it could not be made.
func describeNames(w io.Writer, in *input) {
	if in.namesErr == nil && len(in.names) == 0 {
		return
	}
	fmt.Fprintln(w, "== names")
	for _, n := range in.names {
		fmt.Fprintf(w, "  %s: %s -> %s\n", n.key, n.template, n.name)
	}
	if in.namesErr != nil {
		fmt.Fprintf(w, "  %v\n  ddns, hosts and render would do nothing\n", in.namesErr)
	}
}
