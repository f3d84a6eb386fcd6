// Package route53 registers names in an Amazon Route 53 hosted zone with
// the instance role's credentials.
//
// The API, not DNS, is the truth: one ListResourceRecordSets per name reads
// the name's A and AAAA sets and its ownership TXT, and every change of a
// run goes out in one atomic change batch that DELETEs the exact sets read
// and CREATEs the new ones. A set changed by someone else since the read
// makes Route 53 refuse the whole batch (InvalidChangeBatch), so nothing is
// ever overwritten: the next run reads again.
package route53
