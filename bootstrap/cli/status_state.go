package cli

// stateStatus collects what each step remembers, for `status`.
func stateStatus(g *Globals) ([]statusSection, error) {
	return nil, nil
}
