package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/userdata"
)

// Validate is `ec2boot validate [FILE]`. A FILE may be plain TOML or
// user-data (gzip, multipart MIME) with an ec2boot part; it is checked on its
// own. Without FILE the local config is checked merged with this instance's
// user-data. Every problem is printed, one per line.
func Validate(ctx context.Context, g *Globals, file string) int {
	var problems config.Problems
	var what string
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(g.Stdout, "%s: %v\n", file, err)
			return ExitUsage
		}
		ex, err := userdata.Extract(raw)
		if err != nil {
			fmt.Fprintf(g.Stdout, "%s: %v\n", file, err)
			return ExitUsage
		}
		if !ex.Found() {
			fmt.Fprintf(g.Stdout, "%s: no ec2boot configuration in it (%s)\n", file, ex.Describe())
			return ExitUsage
		}
		_, problems = config.Load(config.Source{Name: file, Data: ex.TOML})
		what = file
	} else {
		md, code, err := newMetadata(g, true)
		if err != nil {
			fmt.Fprintln(g.Stdout, err)
			return code
		}
		local, localProblems := config.LoadFiles(g.root().Path(g.ConfigPath), g.ConfigPath, config.Source{})
		if localProblems.Err() != nil {
			for _, p := range localProblems {
				fmt.Fprintln(g.Stdout, p.String())
			}
			return ExitUsage
		}
		// The user-data comes from the service the facts were read from.
		if _, err := md.Facts(ctx, local.IMDS); err != nil {
			fmt.Fprintln(g.Stdout, err)
			return ExitNoMetadata
		}
		raw, err := md.UserData(ctx)
		if err != nil {
			fmt.Fprintf(g.Stdout, "user-data: %v\n", err)
			return ExitNoMetadata
		}
		ex, err := userdata.Extract(raw)
		if err != nil {
			fmt.Fprintln(g.Stdout, err)
			return ExitUsage
		}
		_, problems = config.LoadFiles(g.root().Path(g.ConfigPath), g.ConfigPath, config.Source{Name: ex.Source, Data: ex.TOML})
		what = g.ConfigPath + " + user-data (" + ex.Describe() + ")"
	}
	for _, p := range problems {
		fmt.Fprintln(g.Stdout, p.String())
	}
	if n := len(problems.Errors()); n > 0 {
		fmt.Fprintf(g.Stdout, "%s: %d error(s), %d warning(s)\n", what, n, len(problems.Warnings()))
		return ExitUsage
	}
	fmt.Fprintf(g.Stdout, "%s: valid (%d warning(s))\n", what, len(problems.Warnings()))
	return ExitOK
}
