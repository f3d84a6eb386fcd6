// Package cmddoc writes ec2boot's manual pages (roff, through go-md2man)
// and its bash and zsh completions from bootstrap/cli's command table, the
// same table that parses the command line and prints --help, and turns a
// user doc (docs/*.md) into a manual page. The generated files are
// committed; this package's tests regenerate them and fail when they
// differ (make man rewrites them), so they cannot drift from the program.
package cmddoc

import (
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/cli"
)

// names returns a flag's spellings: "--verbose", "-v".
func names(f cli.Flag) []string {
	out := []string{"--" + f.Name}
	for _, a := range f.Aliases {
		if len(a) == 1 {
			out = append(out, "-"+a)
		} else {
			out = append(out, "--"+a)
		}
	}
	return out
}

// overview splits `ec2boot --help` into its opening paragraph and the lines
// of its Usage: block.
func overview() (description string, synopsis []string) {
	paras := strings.Split(cli.TopUsage(), "\n\n")
	description = strings.Join(strings.Fields(paras[0]), " ")
	for _, p := range paras[1:] {
		if rest, ok := strings.CutPrefix(p, "Usage:\n"); ok {
			for _, l := range strings.Split(rest, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					synopsis = append(synopsis, l)
				}
			}
		}
	}
	return description, synopsis
}
