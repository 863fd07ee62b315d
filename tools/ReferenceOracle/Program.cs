using System.Globalization;
using ReferenceOracle;
using TorchSharp;
using static TorchSharp.torch;

// ReferenceOracle check <file.safetensors>...   recompute each file from its parameters and inputs, compare
// ReferenceOracle make <dir>                     write the attention seq2seq files into <dir>, then check them
if (Environment.GetEnvironmentVariable("ORACLE_THREADS") is string th) torch.set_num_threads(int.Parse(th, CultureInfo.InvariantCulture)); else torch.set_num_threads(1);
torch.set_num_interop_threads(1);
if (args.Length < 2 || args[0] is not ("check" or "make"))
{
    Console.Error.WriteLine("usage: ReferenceOracle check <file.safetensors>... | make <dir>");
    return 2;
}
bool ok = true;
if (args[0] == "check")
{
    foreach (var file in args.Skip(1)) ok &= Check.File(file);
}
else
{
    Directory.CreateDirectory(args[1]);
    foreach (var c in Cases.All)
    {
        string path = Path.Combine(args[1], c.FileName);
        Cases.Make(c, path);
        Console.WriteLine($"wrote {path} ({new FileInfo(path).Length} bytes)");
        ok &= Check.File(path);
    }
}
Console.WriteLine(ok ? "OK" : "FAILED");
return ok ? 0 : 1;

namespace ReferenceOracle
{
    public static class Check
    {
        private static int Ordered(float f)
        {
            int i = BitConverter.SingleToInt32Bits(f);
            return i < 0 ? int.MinValue - i : i;   // monotone in the float's value; +0 and -0 both map to 0
        }

        /// <summary>Recomputes a file and prints, per group of tensors, the largest absolute difference and ulp distance.</summary>
        public static bool File(string path)
        {
            var (f, meta) = Safetensors.Read(path);
            string graph = meta["graph"];
            Console.WriteLine($"== {Path.GetFileName(path)}  B={f["src_tokens"].Shape[0]} Ts={f["src_tokens"].Shape[1]} Tt={f["tgt_in"].Shape[1]}");
            var problems = new List<string>();
            var r = Oracle.Compute(graph, f, problems);
            var model = new Seq2Seq(graph);
            var known = new HashSet<string>(Oracle.ParameterNames(model).Concat(Oracle.InputNames).Append("dy"), StringComparer.Ordinal);
            foreach (var name in f.Keys.Where(k => !known.Contains(k) && !r.ContainsKey(k))) problems.Add($"{name}: stored, not recomputed");
            foreach (var name in r.Keys.Where(k => !f.ContainsKey(k))) problems.Add($"{name}: recomputed, not stored");
            var groups = new SortedDictionary<string, (int N, int Exact, double Abs, long Ulp, string Worst)>(StringComparer.Ordinal);
            foreach (var (name, got) in r.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (!f.TryGetValue(name, out var want)) continue;
                if (!want.Shape.SequenceEqual(got.Shape)) { problems.Add($"{name}: shape [{string.Join(",", want.Shape)}] vs [{string.Join(",", got.Shape)}]"); continue; }
                double abs = 0; long ulp = 0;
                for (int i = 0; i < want.F32!.Length; i++)
                {
                    float a = want.F32[i], b = got.F32![i];
                    if (float.IsNaN(a) || float.IsNaN(b)) { problems.Add($"{name}[{i}]: NaN"); continue; }
                    abs = Math.Max(abs, Math.Abs((double)a - b));
                    ulp = Math.Max(ulp, Math.Abs((long)Ordered(a) - Ordered(b)));
                }
                string group = name switch
                {
                    _ when name.StartsWith("f32.adam3.", StringComparison.Ordinal) => "f32.adam3.*",
                    _ when name.StartsWith("adam3.", StringComparison.Ordinal) => "adam3.*",
                    _ when name.StartsWith("ce.", StringComparison.Ordinal) => "ce.*",
                    _ when name.StartsWith("grad.", StringComparison.Ordinal) => "grad.*",
                    _ => name,
                };
                var gr = groups.TryGetValue(group, out var prev) ? prev : (N: 0, Exact: 0, Abs: 0.0, Ulp: 0L, Worst: "");
                gr.N++;
                if (ulp == 0) gr.Exact++;
                if (ulp > gr.Ulp || gr.Worst == "") gr.Worst = name;
                gr.Abs = Math.Max(gr.Abs, abs);
                gr.Ulp = Math.Max(gr.Ulp, ulp);
                groups[group] = gr;
                if (ulp > 0) Console.WriteLine($"   {name,-40} max|d| {abs.ToString("G3", CultureInfo.InvariantCulture),-10} {ulp} ulp");
            }
            foreach (var (g, v) in groups)
                Console.WriteLine($"  {g,-14} {v.Exact}/{v.N} bit-identical, max|d| {v.Abs.ToString("G3", CultureInfo.InvariantCulture)}, max {v.Ulp} ulp{(v.Ulp > 0 ? $" ({v.Worst})" : "")}");
            if (model.HasAttention)
            {
                var (masked, finite) = Oracle.MaskedMemoryGradient(graph, f);
                Console.WriteLine($"  masked memory: max |d(sum y*dy)/d memory| at masked positions = {masked}, gradients finite: {finite}");
                if (masked != 0 || !finite) problems.Add("masked memory positions receive gradient, or a gradient is not finite");
            }
            foreach (var p in problems) Console.WriteLine($"  PROBLEM: {p}");
            return problems.Count == 0;
        }
    }
}
