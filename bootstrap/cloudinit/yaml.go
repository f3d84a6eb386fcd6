package cloudinit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxDepth bounds the nesting Parse follows: cloud-init's keys are a few
// levels deep, and a deeper document is far more likely an attack on the
// reader than a configuration.
const maxDepth = 64

// Parse reads one cloud-config document into its top-level keys. It fails
// where cloud-init's util.load_yaml would give up on the file and use an
// empty configuration instead: text that is not YAML, a second document, a
// top level that is not a mapping, a tag PyYAML's safe loader has no
// constructor for, or a list or mapping used as a key. An empty document
// is an empty map.
//
// Mappings are map[string]any (a key that is not a string becomes its
// text), lists []any, scalars nil, bool, int, float64 or string as
// go.yaml.in/yaml/v3 resolves them: YAML 1.2, so "yes" stays a string
// where PyYAML reads true. The keys ec2boot reads do not depend on the
// difference (ManageEtcHosts reads the value as cloud-init's
// translate_bool does, and both "yes" and true count there). A key given
// twice keeps its last value, as in PyYAML, where yaml.v3's own decoding
// would refuse the document.
func Parse(data []byte) (map[string]any, error) {
	doc, _, err := parse(data)
	return doc, err
}

// parse is Parse that also returns the top-level nodes, for the values
// whose YAML 1.1 reading matters (see hostsMode).
func parse(data []byte) (map[string]any, map[string]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return map[string]any{}, nil, nil
	} else if err != nil {
		return nil, nil, oneLine(err)
	}
	var second yaml.Node
	if err := dec.Decode(&second); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, nil, oneLine(err)
		}
		return nil, nil, fmt.Errorf("line %d: a second document (cloud-init reads one)", second.Line)
	}
	top := &doc
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	if err := check(top, 0); err != nil {
		return nil, nil, err
	}
	if top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null" {
		return map[string]any{}, nil, nil
	}
	if top = resolve(top); top.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("line %d: the top level is not a mapping", top.Line)
	}
	cv := &converter{values: map[*yaml.Node]any{}, entries: map[*yaml.Node]map[string]*yaml.Node{}}
	nodes, err := cv.mapping(top, 0)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]any, len(nodes))
	for k, n := range nodes {
		if out[k], err = cv.value(n, 1); err != nil {
			return nil, nil, err
		}
	}
	return out, nodes, nil
}

// safeTags are the tags PyYAML's safe loader constructs, plus the one
// cloud-init's loader adds; any other tag makes it fail.
var safeTags = map[string]bool{
	"!!null": true, "!!bool": true, "!!int": true, "!!float": true, "!!binary": true,
	"!!timestamp": true, "!!omap": true, "!!pairs": true, "!!set": true, "!!str": true,
	"!!seq": true, "!!map": true, "!!merge": true, "!!python/unicode": true,
}

// check refuses what PyYAML's safe loader refuses and yaml.v3 reads.
func check(n *yaml.Node, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("line %d: nested deeper than %d levels", n.Line, maxDepth)
	}
	if n.Kind != yaml.AliasNode && !safeTags[n.ShortTag()] {
		return fmt.Errorf("line %d: tag %s, which cloud-init's YAML loader does not construct", n.Line, n.Tag)
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			if k := resolve(n.Content[i]); k.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: a list or mapping as a key", n.Content[i].Line)
			}
		}
	}
	if n.Kind == yaml.AliasNode {
		return nil // its anchor is checked where it is defined
	}
	for _, c := range n.Content {
		if err := check(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

// converter turns nodes into plain Go values. A node reached through
// several aliases is converted once and shared, as PyYAML shares it, so
// that a document of nested aliases costs its size, not its expansion.
type converter struct {
	values  map[*yaml.Node]any
	entries map[*yaml.Node]map[string]*yaml.Node
}

func (cv *converter) value(n *yaml.Node, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: nested deeper than %d levels (through aliases)", n.Line, maxDepth)
	}
	n = resolve(n)
	if v, ok := cv.values[n]; ok {
		return v, nil
	}
	v, err := cv.convert(n, depth)
	if err == nil && n.Anchor != "" {
		cv.values[n] = v
	}
	return v, err
}

func (cv *converter) convert(n *yaml.Node, depth int) (any, error) {
	switch n.Kind {
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := cv.value(c, depth+1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.MappingNode:
		nodes, err := cv.mapping(n, depth)
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(nodes))
		for k, c := range nodes {
			if m[k], err = cv.value(c, depth+1); err != nil {
				return nil, err
			}
		}
		return m, nil
	case yaml.ScalarNode:
		if n.ShortTag() == "!!binary" {
			// Kept as written: PyYAML decodes base64 leniently where
			// yaml.v3 refuses stray characters, and ec2boot reads no
			// binary value.
			return n.Value, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, oneLine(err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// mapping returns a mapping's values by key. They are gathered here rather
// than by yaml.v3's decoder so that a repeated key keeps its last value and
// merge keys ("<<") give way to the mapping's own keys, as in PyYAML, where
// yaml.v3 refuses a repeated key.
func (cv *converter) mapping(n *yaml.Node, depth int) (map[string]*yaml.Node, error) {
	if m, ok := cv.entries[n]; ok {
		return m, nil
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: nested deeper than %d levels (through aliases)", n.Line, maxDepth)
	}
	own := map[string]*yaml.Node{}
	merged := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.ShortTag() != "!!merge" {
			key := k.Value
			if k.ShortTag() == "!!null" {
				key = "null"
			}
			own[key] = v
			continue
		}
		// The first mapping merged in wins over later ones.
		srcs := []*yaml.Node{resolve(v)}
		if srcs[0].Kind == yaml.SequenceNode {
			srcs = srcs[0].Content
		}
		for _, s := range srcs {
			if s = resolve(s); s.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("line %d: a merge key (<<) needs a mapping", s.Line)
			}
			m, err := cv.mapping(s, depth+1)
			if err != nil {
				return nil, err
			}
			for key, c := range m {
				if _, set := merged[key]; !set {
					merged[key] = c
				}
			}
		}
	}
	for key, c := range merged {
		if _, set := own[key]; !set {
			own[key] = c
		}
	}
	if n.Anchor != "" {
		cv.entries[n] = own
	}
	return own, nil
}

// oneLine keeps yaml.v3's messages (which may list several problems, one a
// line) to the one line a warning gets.
func oneLine(err error) error {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")
	return errors.New(strings.Join(strings.Fields(s), " "))
}
