package cli

import "fmt"

// didYouMean names the candidate nearest to a misspelt word, as
// `; did you mean "run"?` (or `--force` for flags, with prefix "--"), or
// returns "" when none is near enough to be a likely typo.
func didYouMean(word string, candidates []string, prefix string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(word, c)
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	// One edit in three letters, and at least one: "rnu" is run, "st" is
	// not status.
	limit := max(1, len(word)/3)
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	if prefix != "" {
		return fmt.Sprintf("; did you mean %s%s?", prefix, best)
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// editDistance is the number of single-byte insertions, deletions,
// substitutions and swaps of neighbours that turn a into b (optimal string
// alignment distance), computed row by row.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
