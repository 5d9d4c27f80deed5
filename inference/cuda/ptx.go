package cuda

import "strings"

// The PTX files under kernels/, made by `make cuda-ptx` from ptxSources,
// one per target: the driver JIT-compiles the newest one the device runs.
var (
	ptxSources = []string{"infergeth.cu", "prims.cuh"}
	ptxFiles   = []string{"infergeth_sm80.ptx", "infergeth_sm90.ptx"}
)

// ptxHeader returns the value of a "// key: value" line at the top of a PTX
// file written by mkptx.sh.
func ptxHeader(ptx, key string) string {
	for _, line := range strings.Split(ptx, "\n") {
		if !strings.HasPrefix(line, "//") {
			break
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(line, "//")), key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
