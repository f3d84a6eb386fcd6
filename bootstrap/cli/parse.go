package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Parsed is a command line read against the command table.
type Parsed struct {
	// Command is the command to run; for `help` and --help, HelpFor says
	// what to print instead.
	Command Command
	Globals Values
	// GlobalsGiven names the global flags written on the command line,
	// as opposed to their defaults (an explicit --config must exist).
	GlobalsGiven map[string]bool
	Flags        Values
	Args         []string
	// Help is set for --help, -h, `help` and `help COMMAND`: print
	// HelpFor's usage ("" for the overview) on stdout and exit 0.
	Help    bool
	HelpFor string
	// Version is set for --version.
	Version bool
}

// UsageError is a command line ec2boot cannot run. Its text is one plain
// line for the user, whatever the log format: flags are written with two
// dashes, and a misspelt command or flag comes with the nearest real one.
type UsageError struct {
	Command string // the command it concerns, "" for the top level
	Msg     string
}

func (e *UsageError) Error() string {
	if e.Command == "" {
		return "ec2boot: " + e.Msg
	}
	return "ec2boot " + e.Command + ": " + e.Msg
}

// Parse reads a command line (without the program name). Global flags go
// before or after the command; flags and positional arguments may mix; "--"
// ends the flags.
func Parse(args []string) (*Parsed, error) {
	p := &Parsed{Globals: defaults(GlobalFlags()), GlobalsGiven: map[string]bool{}, Flags: Values{}}
	// Before the command: global flags, --help, --version.
	top := append(GlobalFlags(), TopFlags()...)
	i := 0
	for ; i < len(args) && isFlag(args[i]); i++ {
		if args[i] == "--" {
			i++
			break
		}
		f, val, consumed, err := readFlag(args, i, top, "")
		if err != nil {
			return nil, err
		}
		i += consumed
		switch f.Name {
		case "help":
			p.Help = true
			return p, nil
		case "version":
			p.Version = true
			return p, nil
		}
		p.Globals[f.Name] = val
		p.GlobalsGiven[f.Name] = true
	}
	if i == len(args) {
		return nil, &UsageError{Msg: "no command given; run 'ec2boot --help' for the list"}
	}
	name := args[i]
	cmd, ok := Lookup(name)
	if !ok {
		return nil, &UsageError{Msg: fmt.Sprintf("unknown command %q%s ('ec2boot --help' lists the commands)", name, didYouMean(name, commandNames(), ""))}
	}
	p.Command = cmd
	p.Flags = defaults(cmd.Flags)
	own := append(append(append([]Flag{}, cmd.Flags...), GlobalFlags()...), Flag{Name: "help", Aliases: []string{"h"}, Type: FlagBool})
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			p.Args = append(p.Args, rest[j+1:]...)
			break
		}
		if !isFlag(a) {
			p.Args = append(p.Args, a)
			continue
		}
		f, val, consumed, err := readFlag(rest, j, own, cmd.Name)
		if err != nil {
			return nil, err
		}
		j += consumed
		switch {
		case f.Name == "help":
			p.Help, p.HelpFor = true, cmd.Name
			return p, nil
		case isGlobal(f.Name):
			p.Globals[f.Name] = val
			p.GlobalsGiven[f.Name] = true
		default:
			p.Flags[f.Name] = val
		}
	}
	if cmd.Name == "help" {
		p.Help = true
		if len(p.Args) > 0 {
			if _, ok := Lookup(p.Args[0]); !ok {
				return nil, &UsageError{Command: "help", Msg: fmt.Sprintf("unknown command %q%s", p.Args[0], didYouMean(p.Args[0], commandNames(), ""))}
			}
			p.HelpFor = p.Args[0]
		}
	}
	if len(p.Args) > cmd.MaxArgs {
		extra := p.Args[cmd.MaxArgs]
		msg := fmt.Sprintf("unexpected argument %q (usage: ec2boot %s)", extra, cmd.Synopsis())
		if strings.HasPrefix(extra, "—") || strings.HasPrefix(extra, "–") {
			msg += "; flags start with two ASCII dashes"
		}
		return nil, &UsageError{Command: cmd.Name, Msg: msg}
	}
	return p, nil
}

func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' }

func isGlobal(name string) bool {
	for _, f := range GlobalFlags() {
		if f.Name == name {
			return true
		}
	}
	return false
}

func defaults(flags []Flag) Values {
	v := Values{}
	for _, f := range flags {
		switch f.Type {
		case FlagBool:
			v[f.Name] = false
		case FlagDuration:
			d, _ := time.ParseDuration(f.Default)
			v[f.Name] = d
		default:
			v[f.Name] = f.Default
		}
	}
	return v
}

// readFlag reads the flag at args[i] (-x, --x, --x=v, --x v) and returns
// it, its value and how many further arguments it consumed.
func readFlag(args []string, i int, flags []Flag, cmd string) (Flag, any, int, error) {
	raw := strings.TrimPrefix(strings.TrimPrefix(args[i], "-"), "-")
	name, value, hasValue := strings.Cut(raw, "=")
	f, ok := findFlag(flags, name)
	if !ok {
		var names []string
		for _, f := range flags {
			names = append(names, f.Name)
		}
		return Flag{}, nil, 0, &UsageError{Command: cmd, Msg: fmt.Sprintf("unknown flag --%s%s", name, didYouMean(name, names, "--"))}
	}
	consumed := 0
	if f.Type == FlagBool {
		if !hasValue {
			return f, true, 0, nil
		}
		b, err := strconv.ParseBool(value)
		if err != nil {
			return Flag{}, nil, 0, &UsageError{Command: cmd, Msg: fmt.Sprintf("--%s: %q is not true or false", f.Name, value)}
		}
		return f, b, 0, nil
	}
	if !hasValue {
		if i+1 >= len(args) {
			return Flag{}, nil, 0, &UsageError{Command: cmd, Msg: fmt.Sprintf("--%s needs a value (%s)", f.Name, f.Usage())}
		}
		value, consumed = args[i+1], 1
	}
	if f.Type == FlagDuration {
		d, err := time.ParseDuration(value)
		if err != nil || d < 0 {
			return Flag{}, nil, 0, &UsageError{Command: cmd, Msg: fmt.Sprintf("--%s: %q is not a duration (write e.g. 90s, 2m or 1h30m)", f.Name, value)}
		}
		return f, d, consumed, nil
	}
	return f, value, consumed, nil
}

func findFlag(flags []Flag, name string) (Flag, bool) {
	for _, f := range flags {
		if f.Name == name {
			return f, true
		}
		for _, a := range f.Aliases {
			if a == name {
				return f, true
			}
		}
	}
	return Flag{}, false
}

func commandNames() []string {
	var out []string
	for _, c := range Commands() {
		out = append(out, c.Name)
	}
	return out
}
