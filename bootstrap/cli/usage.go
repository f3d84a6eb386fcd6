package cli

import (
	"fmt"
	"strings"
)

// TopUsage is `ec2boot --help`: every command, the global flags and the
// exit codes, made from the command table.
func TopUsage() string {
	var b strings.Builder
	b.WriteString(`ec2boot configures an EC2 instance at boot: dynamic DNS names, /etc/hosts and
application config for its peers, logs and temp dirs on the instance store.

Usage:
  ec2boot [global flags] COMMAND [flags] [arguments]
  ec2boot --version
  ec2boot help [COMMAND]

Commands:
`)
	for _, c := range Commands() {
		fmt.Fprintf(&b, "  %-15s %s\n", c.Name, c.Summary)
	}
	b.WriteString("\nGlobal flags (before or after the command):\n")
	writeFlags(&b, GlobalFlags())
	b.WriteString("\nExit codes:\n")
	for _, e := range ExitCodes() {
		fmt.Fprintf(&b, "  %d  %s\n", e.Code, e.Meaning)
	}
	b.WriteString("\nRun 'ec2boot help COMMAND' for a command's flags and examples. Documentation:\n/usr/share/doc/ec2boot, or docs/ in the source tree.\n")
	return b.String()
}

// CommandUsage is `ec2boot help NAME` and `ec2boot NAME --help`.
func CommandUsage(c Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: ec2boot %s\n\n%s\n", c.Synopsis(), c.Help)
	if len(c.Flags) > 0 {
		b.WriteString("\nFlags:\n")
		writeFlags(&b, c.Flags)
	}
	b.WriteString("\nGlobal flags:\n")
	writeFlags(&b, GlobalFlags())
	if len(c.Examples) > 0 {
		b.WriteString("\nExamples:\n")
		for _, e := range c.Examples {
			fmt.Fprintf(&b, "  %s\n      %s\n", e.Command, e.Does)
		}
	}
	return b.String()
}

func writeFlags(b *strings.Builder, flags []Flag) {
	for _, f := range flags {
		left := f.Usage()
		for _, a := range f.Aliases {
			dash := "--"
			if len(a) == 1 {
				dash = "-"
			}
			left = dash + a + ", " + left
		}
		help := f.Help
		if f.Default != "" {
			help += " (default " + f.Default + ")"
		}
		fmt.Fprintf(b, "  %-24s %s\n", left, help)
	}
}
