package ddns

import "context"

// truthLookup asks a provider whose API is the truth; messages then name
// that API where they would say DNS.
func truthLookup(ctx context.Context, tp TruthProvider, name, typ string) answer {
	addrs, where, err := tp.Lookup(ctx, name, typ)
	api := where
	if api == "" {
		api = "the provider's API"
	}
	return answer{addrs: addrs, err: err, where: where, api: api}
}
