package cli

import (
	"errors"
	"os"

	"github.com/ec2boot/ec2boot/bootstrap/facts"
	"github.com/ec2boot/ec2boot/bootstrap/imds"
	"github.com/ec2boot/ec2boot/bootstrap/state"
)

// newMetadata makes the metadata source for this machine: the command
// line's endpoint, then the AWS SDK's environment variables, with the last
// known facts in the state directory as the fallback. It sends nothing.
// withUserData is for commands that read the user-data after the facts:
// it is then fetched together with them.
func newMetadata(g *Globals, withUserData bool) (*facts.Metadata, int, error) {
	opt := facts.MetadataOptions{
		Root:             g.root(),
		IMDS:             imds.Options{Endpoint: g.IMDSEndpoint},
		LookupEnv:        g.LookupEnv,
		Log:              g.Log,
		Clock:            g.clock(),
		PrefetchUserData: withUserData,
	}
	if cache, err := openCache(g); err == nil {
		opt.Cache = cache
	}
	md, err := facts.NewMetadata(opt)
	if err != nil {
		return nil, ExitUsage, err
	}
	return md, ExitOK, nil
}

// openCache opens the state directory read-only to find the last known
// facts, whichever instance wrote them; none yet is not an error.
func openCache(g *Globals) (*state.Store, error) {
	dir := g.root().Path(state.Dir)
	if _, err := os.Stat(dir); err != nil {
		return nil, errors.New("no state directory")
	}
	return state.Open(dir, "", true)
}
