using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Notebooks;

/// <summary>
/// The maintained analyses: each notebook's file-based app (<c>dotnet run notebooks/….cs</c>, no notebook kernel) runs
/// from another folder, saves its charts as PNG files and prints its frames as aligned tables. In the notebooks'
/// collection, so two builds of the engine never overlap.
/// </summary>
[Collection(NotebookCollection.Name)]
public sealed class FileBasedAppTests : IDisposable
{
    private readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    [Theory]
    [InlineData("01-experiment-readout.cs", 2, "Readout of checkout-price (acme), control p0")]
    [InlineData("02-elasticity-and-demand.cs", 5, "Demand families")]
    [InlineData("03-usage-and-billing.cs", 2, "experiments of acme")]
    public async Task The_app_runs_saves_its_charts_and_prints_aligned_tables(string app, int charts, string table)
    {
        var figures = Path.Combine(folder.Path, "figures");
        var result = await PoProcess.RunProgramAsync("dotnet", ["run", Path.Combine(RepositoryRoot.Find(), "notebooks", app)], folder.Path,
            new Dictionary<string, string> { ["PO_FIGURES"] = figures }, TimeSpan.FromMinutes(5));
        var output = result.Stdout;
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{output}\n{result.Stderr}");

        // Every chart a PNG, as the notebook showed it.
        var pngs = Directory.GetFiles(figures, "*.png");
        Assert.Equal(charts, pngs.Length);
        Assert.All(pngs, png => Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]));
        Assert.Equal(charts, output.Split('\n').Count(l => l.StartsWith("figure: ", StringComparison.Ordinal)));

        // Every table: a header, a rule of dashes per column, then rows whose columns start where the rule's do.
        var lines = output.Split('\n');
        var rules = Enumerable.Range(1, lines.Length - 1).Where(i => lines[i].Length > 0 && lines[i].All(c => c is '-' or ' ')).ToList();
        Assert.NotEmpty(rules);
        foreach (var i in rules)
        {
            var starts = Enumerable.Range(0, lines[i].Length).Where(c => lines[i][c] == '-' && (c == 0 || lines[i][c - 1] == ' ')).ToList();
            Assert.Equal(starts.Count, lines[i - 1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
            for (var row = i + 1; row < lines.Length && lines[row].Length > 0; row++)
            {
                Assert.True(lines[row].Length <= lines[i].Length, $"row longer than its table's rule: {lines[row]}");
                Assert.All(starts.Skip(1), c => Assert.Equal(' ', lines[row][c - 1]));
            }
        }

        Assert.Contains(table, output, StringComparison.Ordinal);
    }
}
