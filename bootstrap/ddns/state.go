package ddns

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/ec2boot/ec2boot/bootstrap/config"
	"github.com/ec2boot/ec2boot/bootstrap/state"
)

// stateName is the file under the state directory (ddns.json).
const stateName = "ddns"

// State is what the step remembers between runs. The store stamps it with
// the instance-id, so a state file baked into an image is ignored.
type State struct {
	// Gen counts saves, so a run can tell that another one wrote in between.
	Gen int `json:"gen"`
	// Records, keyed by recordKey (account, name, type).
	Records map[string]*RecordState `json:"records,omitempty"`
	// Hosts holds per-name sticky errors, keyed by hostKey (account, name).
	Hosts map[string]*Block `json:"hosts,omitempty"`
	// Accounts holds account-wide sticky errors and hold-offs.
	Accounts map[string]*AccountState `json:"accounts,omitempty"`
	// Contests remembers other claimants of our records, keyed by
	// recordKey (see owner.go).
	Contests map[string]*Contest `json:"contests,omitempty"`
}

// RecordState is one registered record.
type RecordState struct {
	Account string     `json:"account"`
	Name    string     `json:"name"`
	Type    string     `json:"type"` // A or AAAA
	Addr    netip.Addr `json:"addr"`
	// Touched is when the provider last accepted Addr from us, or when DNS
	// was first seen carrying it without our doing (Via "dns").
	Touched time.Time `json:"touched"`
	Via     string    `json:"via"`            // "update" or "dns"
	Code    string    `json:"code,omitempty"` // good or nochg, for Via "update"
	// Confirmed: DNS was seen answering Addr after the last update. A nochg
	// for an address DNS never confirmed means our DNS check and the
	// provider disagree; sending again would only earn more nochg.
	Confirmed bool `json:"confirmed"`
}

// Block is a sticky error or a hold-off.
type Block struct {
	Code   string    `json:"code"`
	Detail string    `json:"detail"`
	Since  time.Time `json:"since"`
	// Until is set for hold-offs; zero for sticky errors.
	Until time.Time `json:"until,omitempty"`
	// Config is the fingerprint of the configuration the error was earned
	// with; a different configuration clears it.
	Config string `json:"config"`
}

// AccountState is the account-wide memory.
type AccountState struct {
	Sticky *Block `json:"sticky,omitempty"`
	Hold   *Block `json:"hold,omitempty"`
}

func recordKey(account, name, typ string) string { return account + "/" + name + "/" + typ }
func hostKey(account, name string) string        { return account + "/" + name }

// loadState reads the step's state. State from another instance, and state
// that cannot be parsed, is treated as absent (fresh is true): DNS is the
// truth and the next save replaces it. corrupt says why a file was unusable.
// Times after now are clamped (see sanitize); repaired then says so.
func loadState(store *state.Store, now time.Time) (st *State, fresh bool, corrupt error, repaired string, err error) {
	st = &State{}
	if store != nil {
		var foreign bool
		_, foreign, err = store.Load(stateName, st)
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case err != nil && (errors.As(err, &se) || errors.As(err, &te)):
			st, fresh, corrupt, err = &State{}, true, err, nil
		case err != nil:
			return nil, false, nil, "", err
		case foreign:
			fresh = true
		}
	}
	st.init()
	return st, fresh, corrupt, st.sanitize(now), nil
}

func (st *State) init() {
	if st.Records == nil {
		st.Records = map[string]*RecordState{}
	}
	if st.Hosts == nil {
		st.Hosts = map[string]*Block{}
	}
	if st.Accounts == nil {
		st.Accounts = map[string]*AccountState{}
	}
	if st.Contests == nil {
		st.Contests = map[string]*Contest{}
	}
}

func (st *State) account(name string) *AccountState {
	a := st.Accounts[name]
	if a == nil {
		a = &AccountState{}
		st.Accounts[name] = a
	}
	return a
}

// clone deep-copies st through JSON (small, and exact for every field).
func (st *State) clone() *State {
	b, _ := json.Marshal(st)
	var c State
	_ = json.Unmarshal(b, &c)
	c.init()
	return &c
}

// sameAs compares everything but Gen.
func (st *State) sameAs(o *State) bool {
	a, b := *st, *o
	a.Gen, b.Gen = 0, 0
	x, _ := json.Marshal(&a)
	y, _ := json.Marshal(&b)
	return string(x) == string(y)
}

// prune drops empty account entries so they do not count as changes.
func (st *State) prune() {
	for k, a := range st.Accounts {
		if a.Sticky == nil && a.Hold == nil {
			delete(st.Accounts, k)
		}
	}
}

// accountFingerprint identifies an account's configuration, password
// included, without storing the password: a salted SHA-256, so a sticky
// error is forgotten as soon as the credentials or settings change.
func accountFingerprint(name string, a config.Account, password config.Secret, instanceID string) string {
	h := sha256.New()
	fmt.Fprintf(h, "ec2boot ddns account v1\x00%s\x00%s\x00", instanceID, name)
	for _, f := range []string{a.Provider, a.Server, a.Path, a.Username, password.Reveal(),
		fmt.Sprint(a.OneHostPerRequest), a.Wildcard, a.MX, a.BackMX, fmt.Sprint(a.Offline)} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// hostFingerprint extends the account's with the record's own settings.
func hostFingerprint(accountFP string, r config.Record) string {
	h := sha256.Sum256([]byte(accountFP + "\x00" + strings.ToLower(r.Name) + "\x00" + r.Address))
	return hex.EncodeToString(h[:])[:32]
}
