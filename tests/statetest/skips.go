package statetest

import "regexp"

// skip is one test that geth's own state-test suite does not load, with the
// reason its source gives (go-ethereum v1.17.10, tests/state_test.go,
// initMatcher: the skipLoad patterns). Patterns match a file's path relative
// to the GeneralStateTests folder ("stCreate2/x.json") and, in files holding
// several tests, that path followed by "/" and the test's name.
//
// geth also marks some tests "slow" (stAttackTest/ContractCreationSpam,
// stQuadraticComplexityTest/, ...); it skips those only under `go test
// -short`, so they run here.
type skip struct {
	pattern *regexp.Regexp
	reason  string
}

var gethSkips = []skip{
	{regexp.MustCompile(`^stTimeConsuming/`), "very time consuming"},
	{regexp.MustCompile(`.*vmPerformance/loop.*`), "very time consuming"},
	{regexp.MustCompile(`^stStaticCall/static_Call1MB`), "uses 1GB RAM per tested fork"},
	{regexp.MustCompile(`^stEOF/`), "broken test: EOF is not part of Cancun"},
	{regexp.MustCompile(`RevertInCreateInInit`), "broken test"},
	{regexp.MustCompile(`InitCollisionParis`), "broken test"},
	{regexp.MustCompile(`dynamicAccountOverwriteEmpty_Paris`), "broken test"},
	{regexp.MustCompile(`create2collisionStorageParis`), "broken test"},
}

// gethSkipReason returns why geth skips the test or file called name, or ""
// if it runs it.
func gethSkipReason(name string) string {
	for _, s := range gethSkips {
		if s.pattern.MatchString(name) {
			return "skipped by geth's state test suite (skipLoad " + s.pattern.String() + "): " + s.reason
		}
	}
	return ""
}
