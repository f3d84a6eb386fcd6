package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/render"
	"github.com/ec2boot/ec2boot/bootstrap/state"
	"github.com/ec2boot/ec2boot/bootstrap/userdata"
)

// Validate is `ec2boot validate [FILE]`. A FILE may be plain TOML or
// user-data (gzip, multipart MIME) with an ec2boot part; it is merged over
// the local config (--config) exactly as a run merges user-data. Without
// FILE the local config is merged with this instance's user-data. Then
// every template is compiled and its references to roles, vars and facts
// are checked against the merged configuration. Every problem is printed,
// one per line.
//
// Names written as templates are made from facts: those in factsFile (a
// facts.json, or `ec2boot facts --json` output), else this instance's (read
// from the metadata service without FILE, or cached by the last run with
// one). Without any facts only their syntax and fact names are checked, and
// the output says so.
func Validate(ctx context.Context, g *Globals, file, factsFile string) int {
	local := g.local()
	var top config.Source
	var what string
	var f *facts.Facts
	var factsFrom string
	if factsFile != "" {
		var err error
		if f, err = readFactsFile(factsFile); err != nil {
			fmt.Fprintln(g.Stdout, err)
			return ExitUsage
		}
		factsFrom = factsFile
	}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(g.Stdout, "%s: %v\n", file, pathErr(err))
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
		top = config.Source{Name: file, Data: ex.TOML}
		what = file
		if sameFile(file, local.Path) {
			// validate /etc/ec2boot/config.toml: the file is the local
			// config itself, not something laid over it.
			local = config.Local{}
		} else if _, err := os.Stat(local.Path); err == nil {
			what = file + " over " + g.ConfigPath
		}
		if f == nil {
			f, factsFrom = cachedFacts(g)
		}
	} else {
		imdsCfg, problems := config.LoadIMDS(local)
		if problems.Err() != nil {
			return report(g, g.ConfigPath, problems)
		}
		md, code, err := newMetadata(g, true)
		if err != nil {
			fmt.Fprintln(g.Stdout, err)
			return code
		}
		// The user-data comes from the service the facts were read from.
		mdFacts, err := md.Facts(ctx, imdsCfg)
		if err != nil {
			fmt.Fprintln(g.Stdout, err)
			return ExitNoMetadata
		}
		if f == nil {
			f, factsFrom = mdFacts, "the metadata service"
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
		top = config.Source{Name: ex.Source, Data: ex.TOML}
		what = g.ConfigPath + " + user-data (" + ex.Describe() + ")"
	}
	cfg, problems := local.Check(top)
	if cfg != nil {
		problems = append(problems, checkTemplates(g, cfg, sourceOf(top, local))...)
		problems = append(problems, checkNames(g, cfg, f, factsFrom)...)
	}
	return report(g, what, problems)
}

// checkNames makes the names written as templates from f, and says what
// it could check.
func checkNames(g *Globals, cfg *config.Config, f *facts.Facts, from string) config.Problems {
	if !cfg.HasNameTemplates() {
		return nil
	}
	if f == nil {
		fmt.Fprintln(g.Stdout, "names written as templates: checked for syntax and fact names only (no facts: give --facts FILE, or run on the instance)")
		return nil
	}
	_, problems := cfg.ExpandNames(f.NameData())
	if len(problems) == 0 {
		fmt.Fprintf(g.Stdout, "names written as templates: made from the facts of %s (from %s)\n", f.InstanceID, from)
	}
	return problems
}

// readFactsFile reads facts as facts.json or `ec2boot facts --json` has them.
func readFactsFile(path string) (*facts.Facts, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--facts: %w", err)
	}
	var f facts.Facts
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("--facts %s: not facts in JSON: %v", path, err)
	}
	if f.InstanceID == "" {
		return nil, fmt.Errorf("--facts %s: no instance_id in it", path)
	}
	return &f, nil
}

// cachedFacts returns the facts the last run cached, if any.
func cachedFacts(g *Globals) (*facts.Facts, string) {
	dir := g.root().Path(state.Dir)
	if _, err := os.Stat(dir); err != nil {
		return nil, ""
	}
	store, err := state.Open(dir, "", true)
	if err != nil {
		return nil, ""
	}
	f, _, _, found, err := facts.LoadCached(store)
	if err != nil || !found {
		return nil, ""
	}
	return f, "the cache of the last run"
}

// report prints the problems and the summary and returns the exit code.
func report(g *Globals, what string, problems config.Problems) int {
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

// sourceOf names where templates were configured, for a template file
// that cannot be found.
func sourceOf(top config.Source, local config.Local) string {
	if top.Data != nil {
		return top.Name
	}
	return local.Name
}

// checkTemplates compiles every template as the render step would and
// checks what it refers to against cfg.
func checkTemplates(g *Globals, cfg *config.Config, cfgName string) config.Problems {
	var problems config.Problems
	roles := cfg.Peers.AllRoleNames()
	for i, t := range cfg.Templates {
		key := fmt.Sprintf("templates[%d]", i)
		if t.Source == "" {
			continue // reported by the configuration's own checks
		}
		text, where, err := readTemplate(g, t)
		if err != nil {
			problems = append(problems, config.Problem{Source: cfgName, Key: key + ".source", Message: err.Error()})
			continue
		}
		c, err := render.Compile(where, text)
		if err != nil {
			problems = append(problems, templateProblem(key, err))
			continue
		}
		for _, e := range c.Refs(roles, cfg.Vars) {
			problems = append(problems, templateProblem(key, e))
		}
	}
	return problems
}

// readTemplate finds a template where the render step looks for it.
func readTemplate(g *Globals, t config.Template) (text, where string, err error) {
	paths := t.SourcePaths()
	for _, p := range paths {
		b, err := os.ReadFile(g.root().Path(p))
		if err == nil {
			return string(b), p, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", p, fmt.Errorf("%s: %v", p, pathErr(err))
		}
	}
	return "", "", fmt.Errorf("template %q not found (looked for %s)", t.Source, strings.Join(paths, ", "))
}

func templateProblem(key string, err error) config.Problem {
	var re *render.Error
	if errors.As(err, &re) {
		return config.Problem{Source: re.Source, Line: re.Line, Column: re.Col, Key: key, Message: re.Msg}
	}
	return config.Problem{Key: key, Message: err.Error()}
}

func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
