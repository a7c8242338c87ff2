package openclaw

// OpenClaw 2026.9.6 still generates agents/<id>/agent/models.json from the config, and when it
// regenerates the file it keeps a non-empty baseUrl already there (for the same api) over the
// config's: after the gateway moves to another port, turns would keep going to the old one. So
// whatever changes the provider's baseUrl changes it in these files too.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// ModelsJSONFiles lists the agents' generated models.json files under a profile's state folder.
func ModelsJSONFiles(stateDir string) []string {
	files, _ := filepath.Glob(filepath.Join(stateDir, "agents", "*", "agent", "models.json"))
	sort.Strings(files)
	return files
}

// StaleModelsJSON returns the files whose litellm provider has a baseUrl that does not reach
// baseURL: file → the baseUrl there.
func StaleModelsJSON(stateDir, baseURL string) map[string]string {
	out := map[string]string{}
	for _, f := range ModelsJSONFiles(stateDir) {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		d, err := Parse(raw)
		if err != nil {
			continue
		}
		if base, _ := at(d.Value(), "providers", ProviderID, "baseUrl").(string); base != "" && !reaches(base, baseURL) {
			out[f] = base
		}
	}
	return out
}

// SyncModelsJSON sets the litellm provider's baseUrl in each agent's models.json that has a
// stale one (see StaleModelsJSON), written the careful way with a backup per agent under
// backupDir. Files without a litellm provider are left alone: OpenClaw fills those from the config.
func SyncModelsJSON(stateDir, baseURL, backupDir string) ([]string, error) {
	var lines []string
	stale := StaleModelsJSON(stateDir, baseURL)
	files := make([]string, 0, len(stale))
	for f := range stale {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return lines, fmt.Errorf("openclaw: %w", err)
		}
		d, err := Parse(raw)
		if err != nil {
			return lines, fmt.Errorf("openclaw: %s: %w", f, err)
		}
		if _, err := d.set([]string{"providers", ProviderID, "baseUrl"}, baseURL); err != nil {
			return lines, err
		}
		agent := filepath.Base(filepath.Dir(filepath.Dir(f)))
		if _, err := Write(f, raw, d, filepath.Join(backupDir, "agents", agent)); err != nil {
			return lines, err
		}
		lines = append(lines, fmt.Sprintf("set providers.litellm.baseUrl = %q in %s (was %q; OpenClaw keeps that file's baseUrl over the config's)", baseURL, f, stale[f]))
	}
	return lines, nil
}
