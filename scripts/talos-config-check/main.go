// Command talos-config-check builds a control-plane machine config the way `talosctl gen config`
// does (Talos' own machinery module, pinned in go.mod to the lab's Talos release), applies the
// rendered patches like `--config-patch`, `--config-patch-control-plane` and
// `talosctl apply-config --config-patch`, and validates the result with Talos' strict validation.
// It prints the merged config on success and the problems on failure (exit 1).
//
//	talos-config-check -cluster NAME -endpoint URL -talos-version vX.Y.Z \
//	  -patch @common.yaml -patch-control-plane @controlplane.yaml -node-patch @nodes/talos-1.yaml
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/bundle"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"
	"github.com/siderolabs/talos/pkg/machinery/constants"
)

// metalMode is the runtime mode of a netbooted or AMI-booted node: installed to disk, not in a container.
type metalMode struct{}

func (metalMode) String() string        { return "metal" }
func (metalMode) RequiresInstall() bool { return true }
func (metalMode) InContainer() bool     { return false }

type patchList []string

func (p *patchList) String() string     { return strings.Join(*p, ",") }
func (p *patchList) Set(v string) error { *p = append(*p, v); return nil }

func run() error {
	var patches, controlPlanePatches, nodePatches patchList

	cluster := flag.String("cluster", "", "cluster name")
	endpoint := flag.String("endpoint", "", "Kubernetes API endpoint URL")
	talosVersion := flag.String("talos-version", "", "Talos version contract, e.g. v1.11.5")
	flag.Var(&patches, "patch", "patch for every machine type (@file), repeatable")
	flag.Var(&controlPlanePatches, "patch-control-plane", "patch for control planes (@file), repeatable")
	flag.Var(&nodePatches, "node-patch", "patch applied to the generated control-plane config (@file), repeatable")
	flag.Parse()

	contract, err := config.ParseContractFromVersion(*talosVersion)
	if err != nil {
		return fmt.Errorf("talos-version: %w", err)
	}

	common, err := configpatcher.LoadPatches(patches)
	if err != nil {
		return fmt.Errorf("patch: %w", err)
	}

	controlPlane, err := configpatcher.LoadPatches(controlPlanePatches)
	if err != nil {
		return fmt.Errorf("patch-control-plane: %w", err)
	}

	configBundle, err := bundle.NewBundle(
		bundle.WithInputOptions(&bundle.InputOptions{
			ClusterName: *cluster,
			Endpoint:    *endpoint,
			KubeVersion: strings.TrimPrefix(constants.DefaultKubernetesVersion, "v"),
			GenOptions:  []generate.Option{generate.WithVersionContract(contract)},
		}),
		bundle.WithVerbose(false),
		bundle.WithPatch(common),
		bundle.WithPatchControlPlane(controlPlane),
	)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}

	cfg := configBundle.ControlPlane()

	if len(nodePatches) > 0 {
		node, loadErr := configpatcher.LoadPatches(nodePatches)
		if loadErr != nil {
			return fmt.Errorf("node-patch: %w", loadErr)
		}

		out, applyErr := configpatcher.Apply(configpatcher.WithConfig(cfg), node)
		if applyErr != nil {
			return fmt.Errorf("node-patch: %w", applyErr)
		}

		if cfg, err = out.Config(); err != nil {
			return fmt.Errorf("node-patch: %w", err)
		}
	}

	warnings, err := cfg.Validate(metalMode{}, validation.WithStrict())
	for _, warning := range warnings {
		fmt.Fprintf(os.Stderr, "warning: %s\n", warning)
	}

	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}

	text, err := cfg.EncodeString(encoder.WithComments(encoder.CommentsDisabled))
	if err != nil {
		return err
	}

	fmt.Print(text)

	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
