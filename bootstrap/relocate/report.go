package relocate

import "github.com/ec2boot/ec2boot/bootstrap/step"

// PathState is whether one configured path is on the instance store after
// a run, for status and metrics.
type PathState struct {
	Path      string `json:"path"`
	Relocated bool   `json:"relocated"`
	// Reason says why a path is not relocated: skipped (does not exist,
	// already a tmpfs) or the error.
	Reason string `json:"reason,omitempty"`
}

// PathStates is what Apply left each path in; nil when the step is off or
// the instance has no instance store to relocate to.
func PathStates(sp step.Plan) []PathState {
	if p, ok := sp.(*plan); ok {
		return p.states
	}
	return nil
}

// recordState notes how one path ended: relocated when it went through
// without error and the marker says it is bound.
func (r *run) recordState(path string, err error) {
	st := PathState{Path: path}
	switch {
	case err != nil:
		st.Reason = err.Error()
	case r.marker != nil && r.marker.Paths[path].State == stateBound:
		st.Relocated = true
	default:
		for _, pp := range r.paths {
			if pp.path == path {
				st.Reason = pp.reason
			}
		}
	}
	r.states = append(r.states, st)
}
