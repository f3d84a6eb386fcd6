package ddns

import "context"

// truthLookup asks a provider whose API is the truth.
func truthLookup(ctx context.Context, tp TruthProvider, name, typ string) answer {
	addrs, where, err := tp.Lookup(ctx, name, typ)
	return answer{addrs: addrs, err: err, where: where}
}
