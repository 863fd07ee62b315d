#!/usr/bin/env python3
"""Save a PyTorch state_dict, or a torch.save checkpoint, as a ModelGen-ready safetensors file.

ModelGen loads safetensors files whose tensors are float32 and named as a module with the attributes `rnn`
(nn.LSTM / nn.GRU / nn.RNN, batch_first=True) and `head` (nn.Linear) names them: rnn.weight_ih_l0, ...,
head.weight, head.bias. This script writes such a file from what training code usually leaves behind:

    python export_state_dict.py model.pt model.safetensors
    python export_state_dict.py checkpoint.pt model.safetensors --key model --rename lstm.=rnn. --rename fc.=head.
    python export_state_dict.py lstm_only.pt model.safetensors --rename =rnn.          # a bare nn.LSTM's keys
    python export_state_dict.py ddp.pt model.safetensors --rename module.=              # nn.DataParallel's prefix

It
- reads a torch.save file (a state_dict, a module, or a dict holding one, e.g. {"epoch": 3, "model": ...,
  "optimizer": ...}) or a safetensors file;
- keeps the floating-point tensors, converted to float32 and made contiguous, and skips everything else
  (numbers, strings, optimizer state, integer tensors such as BatchNorm's num_batches_tracked);
- renames key prefixes (--rename FROM=TO; the longest matching FROM wins; FROM may be empty to prefix every key,
  TO may be empty to strip a prefix) and drops keys (--drop PREFIX);
- prints every key it writes, with its shape, and every key it skips, with the reason.

The renames are those of ModelGen's LoadOptions.Rename, so instead of renaming here a C# program can also load the
file as it is: model.LoadSafetensors(path, new LoadOptions { Rename = { ["lstm."] = "rnn.", ["fc."] = "head." } }).

Needs torch and safetensors (pip install torch safetensors). This script is documentation: no test runs it.
"""

import argparse
import sys

import torch
from safetensors.torch import load_file, save_file

# Where checkpoints usually keep the model's state_dict.
STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network")


def parse_renames(pairs):
    """["lstm.=rnn.", "=rnn."] -> [("lstm.", "rnn."), ("", "rnn.")]."""
    renames = []
    for pair in pairs:
        if "=" not in pair:
            sys.exit(f"--rename {pair!r}: expected FROM=TO, e.g. lstm.=rnn.")
        source, target = pair.split("=", 1)
        renames.append((source, target))
    return renames


def rename(key, renames):
    """The key with its longest matching prefix replaced, as ModelGen's KeyMap does; unchanged if none matches."""
    matches = [(source, target) for source, target in renames if key.startswith(source)]
    if not matches:
        return key
    source, target = max(matches, key=lambda rule: len(rule[0]))
    return target + key[len(source):]


def find_state_dict(loaded, key):
    """The mapping of names to tensors inside what torch.load returned."""
    if isinstance(loaded, torch.nn.Module):
        return loaded.state_dict()
    if key is not None:
        for part in key.split("."):
            if not isinstance(loaded, dict) or part not in loaded:
                sys.exit(f"--key {key!r}: the checkpoint has no entry {part!r}")
            loaded = loaded[part]
        return loaded.state_dict() if isinstance(loaded, torch.nn.Module) else loaded
    if not isinstance(loaded, dict):
        sys.exit(f"the file holds a {type(loaded).__name__}, not a state_dict or a module")
    if any(torch.is_tensor(value) for value in loaded.values()):
        return loaded
    for name in STATE_DICT_KEYS:
        value = loaded.get(name)
        if isinstance(value, torch.nn.Module):
            value = value.state_dict()
        if isinstance(value, dict) and any(torch.is_tensor(v) for v in value.values()):
            print(f"using the checkpoint's {name!r} entry (pass --key to choose another)")
            return value
    sys.exit(f"no state_dict found among the checkpoint's entries {sorted(map(str, loaded))}: pass --key")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help="a torch.save file (.pt, .pth, .ckpt, ...) or a .safetensors file")
    parser.add_argument("output", help="the safetensors file to write")
    parser.add_argument("--key", help="the checkpoint entry that holds the state_dict, e.g. model or model.encoder")
    parser.add_argument("--rename", action="append", default=[], metavar="FROM=TO",
                        help="replace a key prefix (repeatable), e.g. lstm.=rnn. fc.=head.")
    parser.add_argument("--drop", action="append", default=[], metavar="PREFIX",
                        help="skip the keys that start with PREFIX (repeatable)")
    parser.add_argument("--unsafe-pickle", action="store_true",
                        help="let torch.load run arbitrary pickled code (only for files you trust; needed for "
                             "checkpoints that pickle whole modules or custom classes)")
    args = parser.parse_args()

    if args.input.endswith(".safetensors"):
        loaded = load_file(args.input)
    else:
        loaded = torch.load(args.input, map_location="cpu", weights_only=not args.unsafe_pickle)
    state_dict = find_state_dict(loaded, args.key)
    renames = parse_renames(args.rename)

    tensors, skipped = {}, []
    for key, value in state_dict.items():
        if any(key.startswith(prefix) for prefix in args.drop):
            skipped.append((key, "dropped (--drop)"))
        elif not torch.is_tensor(value):
            skipped.append((key, f"not a tensor ({type(value).__name__})"))
        elif not value.is_floating_point():
            skipped.append((key, f"not floating point ({value.dtype})"))
        else:
            name = rename(key, renames)
            if name in tensors:
                sys.exit(f"two keys are renamed to {name!r}: make the --rename rules tell them apart")
            # float32, contiguous and in memory of its own (safetensors refuses shared or strided storage).
            tensors[name] = value.detach().to(device="cpu", dtype=torch.float32).contiguous().clone()
            dtype = str(value.dtype).replace("torch.", "")
            dtype = dtype if dtype == "float32" else f"{dtype} -> float32"
            arrow = "" if name == key else f"  (was {key})"
            print(f"  {name:<32} {list(value.shape)!s:<16} {dtype}{arrow}")
    for key, reason in skipped:
        print(f"  skipped {key}: {reason}")
    if not tensors:
        sys.exit("no floating-point tensor to write")

    save_file(tensors, args.output, metadata={"format": "pt"})
    print(f"wrote {len(tensors)} float32 tensors to {args.output}")
    if not any(name.startswith(("rnn.", "head.")) for name in tensors):
        print("note: no key starts with rnn. or head.; rename the module's prefixes (e.g. --rename lstm.=rnn.) or "
              "load with LoadOptions.Rename")


if __name__ == "__main__":
    main()
