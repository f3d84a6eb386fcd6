package relocate

// Pending implements step.Pending: Apply would format or mount the
// instance store, or mount, restore or copy a path. A store that is absent,
// or paths already relocated or skipped, are only reported.
func (p *plan) Pending() bool {
	if p.disabled || p.store.action == storeNone {
		return false
	}
	if p.store.action == storeMount || p.store.action == storeFormat {
		return true
	}
	for _, pp := range p.paths {
		switch pp.kind {
		case pathRestore, pathSkeleton, pathCopy, pathLater:
			return true
		}
	}
	return false
}
