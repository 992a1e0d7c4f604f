# Stand-ins for the arguments NixOS passes to a module, so a generated module can be
# evaluated without nixpkgs: a package is a set whose outPath names it. `config` holds the
# few evaluated values the generated modules read back; the NVIDIA driver versions are
# the 24.11-era stable (565) and a 570 beta, chosen to exercise the Blackwell check.
let
  package = name: { outPath = "/nix/store/stub-${name}"; };
  driver = version: package "nvidia-${version}" // { inherit version; };
  module = name: "/stub/nixos-raspberrypi/${name}";
in
{
  config = {
    boot.kernelPackages.nvidiaPackages = {
      beta = driver "570.86.16";
      stable = driver "565.77";
    };
    hardware.nvidia.package = driver "570.86.16";
    hardware.enableRedistributableFirmware = true;
  };
  lib = {
    mkDefault = content: {
      _type = "override";
      priority = 1000;
      inherit content;
    };
    versionAtLeast = version: least: builtins.compareVersions version least >= 0;
  };
  pkgs = {
    ollama = package "ollama";
  };
  modulesPath = "/stub/nixos/modules";
  nixos-raspberrypi = {
    nixosModules = {
      raspberry-pi-5.base = module "raspberry-pi-5.base";
      sd-image = module "sd-image";
      trusted-nix-caches = module "trusted-nix-caches";
    };
    lib.inject-overlays = module "inject-overlays";
  };
}
