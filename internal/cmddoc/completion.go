package cmddoc

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ec2boot/ec2boot/bootstrap/cli"
)

// A flag's value completes from its fixed values, as a directory (DIR), as
// a file (FILE), or not at all (a URL, a duration).
func bashValue(f cli.Flag) string {
	switch {
	case len(f.Values) > 0:
		return fmt.Sprintf(`COMPREPLY=($(compgen -W %q -- "$cur"))`, strings.Join(f.Values, " "))
	case f.Arg == "DIR":
		return `COMPREPLY=($(compgen -d -- "$cur"))`
	case f.Arg == "FILE":
		return `COMPREPLY=($(compgen -f -- "$cur"))`
	}
	return `COMPREPLY=()`
}

func zshValue(f cli.Flag) string {
	switch {
	case len(f.Values) > 0:
		return "(" + strings.Join(f.Values, " ") + ")"
	case f.Arg == "DIR":
		return "_files -/"
	case f.Arg == "FILE":
		return "_files"
	}
	return ""
}

// takesCommand: the positional argument is a command name (help COMMAND).
func takesCommand(c cli.Command) bool { return strings.Contains(c.Args, "COMMAND") }

// Bash writes a completion script for bash that needs no bash-completion
// helpers: commands, each command's flags and the global flags, flag values,
// and file names or command names as positional arguments.
func Bash() string {
	var b strings.Builder
	b.WriteString("# bash completion for ec2boot. Generated from bootstrap/cli's command table by\n")
	b.WriteString("# internal/cmddoc (make man); do not edit.\n\n_ec2boot() {\n")
	b.WriteString("    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i\n")

	valued := map[string]cli.Flag{} // "--root" -> its flag
	var globals, top []string
	for _, f := range cli.GlobalFlags() {
		globals = append(globals, names(f)...)
	}
	for _, f := range cli.TopFlags() {
		top = append(top, names(f)...)
	}
	all := cli.GlobalFlags()
	for _, c := range cli.Commands() {
		all = append(all, c.Flags...)
	}
	for _, f := range all {
		if f.Arg != "" {
			for _, n := range names(f) {
				valued[n] = f
			}
		}
	}
	valueNames := sortedKeys(valued)

	// The command is the first word that is neither a flag nor a flag's value.
	b.WriteString("    for ((i = 1; i < COMP_CWORD; i++)); do\n")
	b.WriteString("        case ${COMP_WORDS[i]} in\n        -*) continue ;;\n        esac\n")
	fmt.Fprintf(&b, "        case ${COMP_WORDS[i-1]} in\n        %s) continue ;;\n        esac\n", strings.Join(valueNames, "|"))
	b.WriteString("        cmd=${COMP_WORDS[i]}\n        break\n    done\n")

	b.WriteString("    case $prev in\n")
	byAction := map[string][]string{}
	for _, n := range valueNames {
		a := bashValue(valued[n])
		byAction[a] = append(byAction[a], n)
	}
	for _, a := range sortedKeys(byAction) {
		fmt.Fprintf(&b, "    %s)\n        %s\n        return\n        ;;\n", strings.Join(byAction[a], "|"), a)
	}
	b.WriteString("    esac\n")

	var cmdNames []string
	for _, c := range cli.Commands() {
		cmdNames = append(cmdNames, c.Name)
	}
	fmt.Fprintf(&b, "    local opts=%q words=\n", strings.Join(globals, " "))
	b.WriteString("    case $cmd in\n")
	fmt.Fprintf(&b, "    \"\")\n        opts=\"$opts %s\"\n        words=%q\n        ;;\n", strings.Join(top, " "), strings.Join(cmdNames, " "))
	for _, c := range cli.Commands() {
		fmt.Fprintf(&b, "    %s)\n", c.Name)
		var own []string
		for _, f := range c.Flags {
			own = append(own, names(f)...)
		}
		if len(own) > 0 {
			fmt.Fprintf(&b, "        opts=\"$opts %s\"\n", strings.Join(own, " "))
		}
		switch {
		case c.ArgFiles:
			b.WriteString("        [[ $cur == -* ]] || { COMPREPLY=($(compgen -f -- \"$cur\")); return; }\n")
		case takesCommand(c):
			fmt.Fprintf(&b, "        words=%q\n", strings.Join(cmdNames, " "))
		}
		b.WriteString("        ;;\n")
	}
	b.WriteString("    *) return ;;\n    esac\n")
	b.WriteString("    if [[ $cur == -* ]]; then\n        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n")
	b.WriteString("    else\n        COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n    fi\n}\n")
	b.WriteString("complete -F _ec2boot ec2boot\n")
	return b.String()
}

// Zsh writes a completion function for zsh's compsys (#compdef).
func Zsh() string {
	var b strings.Builder
	b.WriteString("#compdef ec2boot\n# zsh completion for ec2boot. Generated from bootstrap/cli's command table by\n")
	b.WriteString("# internal/cmddoc (make man); do not edit.\n\n_ec2boot() {\n")
	b.WriteString("    local curcontext=$curcontext state line\n    local -a globals commands\n    globals=(\n")
	for _, f := range cli.GlobalFlags() {
		for _, spec := range zshSpecs(f) {
			fmt.Fprintf(&b, "        %s\n", spec)
		}
	}
	b.WriteString("    )\n    commands=(\n")
	for _, c := range cli.Commands() {
		fmt.Fprintf(&b, "        %s\n", zshQuote(c.Name+":"+c.Summary))
	}
	b.WriteString("    )\n")
	b.WriteString("    _arguments -C $globals")
	for _, f := range cli.TopFlags() {
		for _, spec := range zshSpecs(f) {
			b.WriteString(" " + spec)
		}
	}
	b.WriteString(" '1: :->command' '*:: :->args' && return\n")
	b.WriteString("    case $state in\n    command)\n        _describe -t commands 'command' commands\n        ;;\n")
	b.WriteString("    args)\n        case $line[1] in\n")
	for _, c := range cli.Commands() {
		fmt.Fprintf(&b, "        %s)\n            _arguments $globals", c.Name)
		for _, f := range c.Flags {
			for _, spec := range zshSpecs(f) {
				b.WriteString(" \\\n                " + spec)
			}
		}
		switch {
		case c.ArgFiles:
			b.WriteString(" \\\n                '1:file:_files'")
		case takesCommand(c):
			b.WriteString(" \\\n                '1: :->command'")
		}
		b.WriteString("\n            ;;\n")
	}
	b.WriteString("        esac\n        ;;\n    esac\n")
	b.WriteString("    [[ $state == command ]] && _describe -t commands 'command' commands\n}\n\n")
	b.WriteString("_ec2boot \"$@\"\n")
	return b.String()
}

func zshSpecs(f cli.Flag) []string {
	desc := strings.NewReplacer("[", `\[`, "]", `\]`).Replace(f.Help)
	var out []string
	for _, n := range names(f) {
		spec := n + "[" + desc + "]"
		if f.Arg != "" {
			spec += ":" + strings.ToLower(f.Arg) + ":" + zshValue(f)
		}
		out = append(out, zshQuote(spec))
	}
	return out
}

func zshQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
