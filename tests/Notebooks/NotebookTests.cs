using System.Diagnostics;
using System.Text.Json;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Notebooks;

/// <summary>
/// Runs the Polyglot notebooks top to bottom, headless, with the repository's local tool dotnet-repl (exit code 2 on a
/// failing cell), with the engine loaded from the local package feed notebooks/pack-engine.sh makes and the sample
/// lake — the same steps as notebooks/README.md's.
/// </summary>
[Collection(NotebookCollection.Name)]
public sealed class NotebookTests(NotebookFixture fixture) : IDisposable
{
    private readonly TempDirectory folder = new();

    [Theory]
    [InlineData("01-experiment-readout.ipynb", 2, "<p><b>Readout of checkout-price (acme), control p0</b></p>")]
    [InlineData("02-elasticity-and-demand.ipynb", 5, "<p><b>Demand families</b></p>")]
    [InlineData("03-usage-and-billing.ipynb", 2, "experiments of acme")]
    public async Task The_notebook_runs_top_to_bottom_and_shows_its_charts_and_tables(string notebook, int charts, string formatted)
    {
        var output = Path.Combine(folder.Path, notebook);
        var run = await fixture.RunAsync(Path.Combine(fixture.NotebooksFolder, notebook), output);
        Assert.True(run.ExitCode == 0, $"{notebook} failed (exit {run.ExitCode}): {run.Stdout}\n{run.Stderr}");

        using var executed = JsonDocument.Parse(File.ReadAllText(output));
        var outputs = executed.RootElement.GetProperty("cells").EnumerateArray()
            .Where(c => c.GetProperty("cell_type").GetString() == "code")
            .SelectMany(c => c.GetProperty("outputs").EnumerateArray()).ToList();
        Assert.DoesNotContain(outputs, o => o.GetProperty("output_type").GetString() == "error");
        var images = outputs.Count(o => o.TryGetProperty("data", out var data) && data.TryGetProperty("text/html", out var html)
            && string.Concat(html.EnumerateArray().Select(l => l.GetString())).Contains("data:image/png;base64,", StringComparison.Ordinal));
        Assert.True(images >= charts, $"{notebook} showed {images} charts, expected at least {charts}");
        // A cell ending in an engine result shows it through the engine package's formatter (its extension.dib ran).
        var html = string.Concat(outputs.Where(o => o.TryGetProperty("data", out var data) && data.TryGetProperty("text/html", out _))
            .Select(o => string.Concat(o.GetProperty("data").GetProperty("text/html").EnumerateArray().Select(l => l.GetString()))));
        Assert.Contains(formatted, html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_cell_fails_the_run()
    {
        var notebook = Path.Combine(fixture.NotebooksFolder, "failing-" + Guid.NewGuid().ToString("N")[..8] + ".ipynb");
        Assert.False(notebook.StartsWith(fixture.Root, StringComparison.Ordinal), "the test writes into a copy, never into the repository");
        File.WriteAllText(notebook, """
            {"cells":[{"cell_type":"code","execution_count":null,"metadata":{"polyglot_notebook":{"kernelName":"csharp"}},"outputs":[],
              "source":["throw new System.InvalidOperationException(\"this cell fails\");"]}],
             "metadata":{"kernelspec":{"display_name":".NET (C#)","language":"C#","name":".net-csharp"},
              "polyglot_notebook":{"kernelInfo":{"defaultKernelName":"csharp","items":[{"aliases":[],"name":"csharp"}]}}},
             "nbformat":4,"nbformat_minor":2}
            """);
        try
        {
            var run = await fixture.RunAsync(notebook, Path.Combine(folder.Path, "failing.ipynb"));
            Assert.NotEqual(0, run.ExitCode);
        }
        finally
        {
            File.Delete(notebook);
        }
    }

    public void Dispose() => folder.Dispose();
}

[CollectionDefinition(Name)]
public sealed class NotebookCollection : ICollectionFixture<NotebookFixture>
{
    public const string Name = "notebooks";
}

/// <summary>
/// A copy of the notebooks (with the sample lake linked beside them, as in the repository) and the local feed
/// notebooks/pack-engine.sh makes, packed into that copy, with the local tools restored: once, and nothing written
/// into the repository's notebooks/ folder.
/// </summary>
public sealed class NotebookFixture : IAsyncLifetime
{
    private readonly TempDirectory copy = new();

    public string Root { get; } = RepositoryRoot.Find();

    public string NotebooksFolder => Path.Combine(copy.Path, "notebooks");

    public async Task InitializeAsync()
    {
        await MustAsync("dotnet", Root, "tool", "restore");
        Directory.CreateDirectory(NotebooksFolder);
        foreach (var notebook in Directory.EnumerateFiles(Path.Combine(Root, "notebooks"), "*.ipynb"))
        {
            File.Copy(notebook, Path.Combine(NotebooksFolder, Path.GetFileName(notebook)));
        }

        Directory.CreateSymbolicLink(Path.Combine(copy.Path, "data-samples"), Path.Combine(Root, "data-samples"));
        Directory.CreateDirectory(Path.Combine(copy.Path, ".config"));
        File.Copy(Path.Combine(Root, ".config", "dotnet-tools.json"), Path.Combine(copy.Path, ".config", "dotnet-tools.json"));
        await MustAsync("bash", Root, Path.Combine(Root, "notebooks", "pack-engine.sh"), Path.Combine(NotebooksFolder, "packages"));
    }

    public Task DisposeAsync()
    {
        copy.Dispose();
        return Task.CompletedTask;
    }

    public Task<PoProcess.Result> RunAsync(string notebook, string output) =>
        DotnetAsync(NotebooksFolder, "repl", "--run", notebook, "--exit-after-run", "--output-path", output);

    private static async Task MustAsync(string program, string workingDirectory, params string[] args)
    {
        var result = await RunAsync(program, workingDirectory, args);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({result.ExitCode}): {result.Stdout}\n{result.Stderr}");
        }
    }

    private static Task<PoProcess.Result> DotnetAsync(string workingDirectory, params string[] args) => RunAsync("dotnet", workingDirectory, args);

    private static async Task<PoProcess.Result> RunAsync(string program, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return new PoProcess.Result(process.ExitCode, await stdout, await stderr);
    }
}
