package awsapi

import (
	"encoding/xml"
	"net/url"
	"strings"
	"testing"
)

// FuzzDescribeForm: any form body either parses into a request whose
// filters all have a known name and values, or is refused with a code.
func FuzzDescribeForm(f *testing.F) {
	for _, s := range []string{
		"Action=DescribeInstances&Version=2016-11-15",
		"Filter.1.Name=tag%3AName&Filter.1.Value.1=a&Filter.1.Value.2=b*&InstanceId.1=i-0123456789abcdef0",
		"Filter.2.Name=instance-state-name&Filter.2.Value.1=running&MaxResults=5&NextToken=MTA6YWJj",
		"Filter.1.Value.1=x", "Filter.0.Name=x", "InstanceId.1=nope", "DryRun=maybe", "MaxResults=4",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		req, perr := parseDescribe(form)
		if perr != nil {
			if perr.code == "" || perr.message == "" || perr.status < 400 {
				t.Fatalf("refusal without code or message: %+v", perr)
			}
			return
		}
		for _, fl := range req.filters {
			if !knownFilter(fl.name) || len(fl.values) == 0 {
				t.Fatalf("accepted filter %+v", fl)
			}
		}
		if req.maxResults != 0 && (req.maxResults < 5 || req.maxResults > 1000 || len(req.instanceIDs) > 0) {
			t.Fatalf("accepted MaxResults %d with %d ids", req.maxResults, len(req.instanceIDs))
		}
		for _, id := range req.instanceIDs {
			if !instanceIDRE.MatchString(id) {
				t.Fatalf("accepted instance id %q", id)
			}
		}
		matches(fleet(3)[0], req) // must not panic
	})
}

// FuzzChangeBatch: any XML body either is refused, or applies to a zone
// leaving it sorted, without duplicate keys, every name inside the zone.
func FuzzChangeBatch(f *testing.F) {
	f.Add(`<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>a.example.com</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`)
	f.Add(`<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>DELETE</Action><ResourceRecordSet><Name>\052.EXAMPLE.com.</Name><Type>TXT</Type><SetIdentifier>x</SetIdentifier><MultiValueAnswer>true</MultiValueAnswer><TTL>1</TTL><ResourceRecords><ResourceRecord><Value>"a"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change><Change><Action>UPSERT</Action><ResourceRecordSet><Name>c.example.com</Name><Type>CNAME</Type><TTL>1</TTL><ResourceRecords><ResourceRecord><Value>x.</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`)
	f.Fuzz(func(t *testing.T, body string) {
		var req xmlChangeRequest
		if xml.Unmarshal([]byte(body), &req) != nil {
			return
		}
		z := &zone{HostedZone: HostedZone{ID: "ZFUZZ", Name: "example.com."}}
		z.sets = []RecordSet{{Name: "example.com.", Type: "NS", TTL: 60, Values: []string{"ns."}}, {Name: "a.example.com.", Type: "A", TTL: 60, Values: []string{"192.0.2.1"}}}
		changes, berr := checkBatch(z, &req)
		if berr != nil {
			if berr.input == "" && len(berr.messages) == 0 {
				t.Fatal("refusal without a message")
			}
			return
		}
		sets, msgs := applyChanges(z, changes)
		if msgs != nil {
			return
		}
		for i, s := range sets {
			if !inZone(s.Name, z.Name) || !strings.HasSuffix(s.Name, ".") {
				t.Fatalf("set %+v outside the zone", s)
			}
			if i > 0 && compareSets(sets[i-1], s) >= 0 {
				t.Fatalf("sets out of order or duplicated: %+v then %+v", sets[i-1], s)
			}
		}
	})
}

// FuzzNames: normalising is idempotent and keeps only a-z 0-9 - _ and
// octal escapes.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"a.example.com", "*.Example.COM.", `\052.x`, `a\.b.c`, `\377.x`, ".", "a..b", `x\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, err := normalName(name)
		if err != nil {
			return
		}
		again, err := normalName(n)
		if err != nil || again != n {
			t.Fatalf("%q -> %q -> %q, %v", name, n, again, err)
		}
		for i := 0; i < len(n); i++ {
			c := n[i]
			if !(('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '_' || c == '.' || c == '\\') {
				t.Fatalf("%q keeps byte %q", n, c)
			}
		}
		if compareNames(n, n) != 0 {
			t.Fatalf("%q does not equal itself", n)
		}
	})
}
