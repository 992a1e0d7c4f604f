# Stand-ins for the arguments NixOS passes to a module, so a generated module can be
# evaluated without nixpkgs: a package is a set whose outPath names it.
let
  package = name: { outPath = "/nix/store/stub-${name}"; };
in
{
  config = {
    boot.kernelPackages.nvidiaPackages = {
      beta = package "nvidia-beta";
      stable = package "nvidia-stable";
    };
  };
  lib = { };
  pkgs = {
    ollama = package "ollama";
    ollama-cuda = package "ollama-cuda";
  };
  modulesPath = "/stub/nixos/modules";
}
