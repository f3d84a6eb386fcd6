// Package rfc2136 changes address records with RFC 2136 dynamic updates
// signed with RFC 8945 TSIG. It knows nothing of ddns's state or decisions:
// it reads what the zone's primary server holds now, sends one atomic
// compare-and-swap UPDATE per zone and says what the reply means.
//
// The compare-and-swap: for every record set it replaces, the UPDATE
// carries the values just read as a value-dependent "RRset exists"
// prerequisite (or "RRset absent", or "name not in use" for a new name),
// then deletes the set and adds the new one. If another writer changed the
// name between the read and the update, the server refuses the whole
// message and nothing is overwritten; the next run reads again.
package rfc2136
