package metrics

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
)

// families are the gauge families of one write, in the shape a registry's
// Gather returns them: families sorted by name, a family's series sorted by
// their label values (labels in name order), families without a series
// left out, and one series per distinct set of label values (the last
// value set wins).
type families []*gaugeVec

// gaugeVec is one gauge family and its series by label values.
type gaugeVec struct {
	name, help string
	labels     []string
	series     map[string]*series
}

type series struct {
	values []string
	value  float64
}

// gauge adds the family ec2boot_<name>.
func (f *families) gauge(name, help string, labels ...string) *gaugeVec {
	v := &gaugeVec{name: "ec2boot_" + name, help: help, labels: labels, series: map[string]*series{}}
	*f = append(*f, v)
	return v
}

// with is the series of these label values (in the order of the family's
// labels), made on first use.
func (v *gaugeVec) with(values ...string) *series {
	if len(values) != len(v.labels) {
		// A programming error, as client_golang's WithLabelValues has it.
		panic(fmt.Sprintf("%s: %d label values for %d labels", v.name, len(values), len(v.labels)))
	}
	key := strings.Join(values, "\xff")
	s, ok := v.series[key]
	if !ok {
		s = &series{values: values}
		v.series[key] = s
	}
	return s
}

func (s *series) set(x float64) { s.value = x }

// gather turns the families into client_model values. A label value that is
// not UTF-8 (a name or path read from the system) is an error, as the
// registry had it: the text format cannot carry it.
func (f families) gather() ([]*dto.MetricFamily, error) {
	gauge := dto.MetricType_GAUGE
	var out []*dto.MetricFamily
	for _, v := range f {
		if len(v.series) == 0 {
			continue
		}
		// The labels in name order, and where each one's value is.
		order := make([]int, len(v.labels))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(v.labels[a], v.labels[b]) })

		mf := &dto.MetricFamily{Name: &v.name, Help: &v.help, Type: &gauge}
		for _, s := range v.series {
			m := &dto.Metric{Gauge: &dto.Gauge{Value: &s.value}}
			for _, i := range order {
				if !utf8.ValidString(s.values[i]) {
					return nil, fmt.Errorf("%s: label %s: value %q is not valid UTF-8", v.name, v.labels[i], s.values[i])
				}
				m.Label = append(m.Label, &dto.LabelPair{Name: &v.labels[i], Value: &s.values[i]})
			}
			mf.Metric = append(mf.Metric, m)
		}
		slices.SortFunc(mf.Metric, func(a, b *dto.Metric) int {
			for i := range a.Label {
				if c := cmp.Compare(a.Label[i].GetValue(), b.Label[i].GetValue()); c != 0 {
					return c
				}
			}
			return 0
		})
		out = append(out, mf)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return cmp.Compare(a.GetName(), b.GetName()) })
	return out, nil
}
