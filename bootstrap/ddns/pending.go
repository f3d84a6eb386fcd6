package ddns

// Pending implements step.Pending: Apply would send a request or write
// state (remember what DNS shows, forget blocks that no longer apply).
func (p *Plan) Pending() bool {
	return p.needsState() || p.staleBlocks()
}
