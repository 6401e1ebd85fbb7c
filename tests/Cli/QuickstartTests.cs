using System.Text.Json;
using System.Text.RegularExpressions;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Cli;

/// <summary>
/// README's quickstarts, run as a user pastes them: the integrator's and the analyst's shell sequences by bash (the
/// API and <c>po</c> from this build rather than <c>dotnet run</c>, on a free port), and the operator's settings on
/// real Kafka (librdkafka's mock cluster) and PostgreSQL processes. Plus what the analyst reads: decisions in a
/// sentence, within 100 columns, the same in the report.
/// </summary>
public sealed partial class QuickstartTests(KafkaMockFixture kafka) : IClassFixture<KafkaMockFixture>, IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>The shell block between README's <c>&lt;!-- quickstart:{name}:start --&gt;</c> and its end marker.</summary>
    private static string Block(string name)
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "README.md"));
        var match = Regex.Match(readme, $@"<!-- quickstart:{Regex.Escape(name)}:start -->\s*```bash\n(.*?)```\s*<!-- quickstart:{Regex.Escape(name)}:end -->",
            RegexOptions.Singleline);
        Assert.True(match.Success, $"README has no quickstart block '{name}'");
        return match.Groups[1].Value;
    }

    /// <summary>The script under bash with errors fatal, in the test's folder; a hung loop ends after 3 minutes.</summary>
    private async Task<PoProcess.Result> BashAsync(string script)
    {
        var file = Path.Combine(temp.Path, "quickstart.sh");
        await File.WriteAllTextAsync(file, "set -euo pipefail\n" + script);
        return await PoProcess.RunProgramAsync("bash", [file], temp.Path, null, TimeSpan.FromMinutes(3));
    }

    [Fact]
    public async Task The_integrators_quickstart_runs_as_written_and_ends_with_the_purchase_in_the_readout()
    {
        var port = ServiceProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var api = Path.Combine(AppContext.BaseDirectory, "PricingOptimizer.IngestApi.dll");
        var start = Block("integrator").Replace("dotnet run --project ingest-api --", $"dotnet {api}", StringComparison.Ordinal);
        Assert.Contains(api, start, StringComparison.Ordinal);
        var script = (start + "trap 'kill %1 2>/dev/null || true' EXIT\n" + Block("integrator-use")).Replace("127.0.0.1:5080", "127.0.0.1:" + port,
            StringComparison.Ordinal);

        var result = await BashAsync(script);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Stdout}\n{result.Stderr}");
        // The readout's JSON, then the dashboard's: the purchase of 23.98 by the one visitor is in both.
        var answers = result.Stdout;
        Assert.Contains("\"experiment_id\":\"spring\"", answers, StringComparison.Ordinal);
        Assert.Contains("\"revenue\":23.98", answers, StringComparison.Ordinal);
        Assert.Contains("\"headline\":", answers, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(temp.Path, "data", "quickstart", "lake")));
    }

    [Fact]
    public async Task The_analysts_quickstart_runs_as_written_and_the_report_opens_with_the_recommendations_headline()
    {
        Directory.CreateDirectory(Path.Combine(temp.Path, "data-samples"));
        File.Copy(Path.Combine(RepositoryRoot.Find(), "data-samples", "demand.json"), Path.Combine(temp.Path, "data-samples", "demand.json"));
        var po = Path.Combine(AppContext.BaseDirectory, "po.dll");
        var block = Block("analyst");
        Assert.Contains("po() { dotnet run --project pipelines -- \"$@\"; }", block, StringComparison.Ordinal);
        var result = await BashAsync(block.Replace("dotnet run --project pipelines --", $"dotnet {po}", StringComparison.Ordinal));
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Stdout}\n{result.Stderr}");

        var recommend = await PoProcess.RunAsync(temp.Path, null, "recommend", "--tenant", "my-shop", "--experiment", "spring", "--goal", "revenue",
            "--control", "p0", "--lake", "./my-lake", "--json");
        var headline = JsonDocument.Parse(recommend.Stdout).RootElement.GetProperty("headline").GetString()!;
        Assert.StartsWith("Charge ", headline, StringComparison.Ordinal);
        // The shell printed the same decision, and the report opens the experiment with it.
        Assert.Contains(headline.Split(':')[0], result.Stdout, StringComparison.Ordinal);
        var report = await File.ReadAllTextAsync(Path.Combine(temp.Path, "my-reports", "my-shop", "2026-11", "report.html"));
        Assert.Contains(System.Net.WebUtility.HtmlEncode("Decision: " + headline), report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readout_and_recommend_open_with_the_headline_and_fit_100_columns_unless_wide()
    {
        var csv = Path.Combine(temp.Path, "spring.csv");
        Assert.Equal(0, (await PoProcess.RunAsync(temp.Path, null, "simulate", "--settings", Path.Combine(RepositoryRoot.Find(), "data-samples", "demand.json"),
            "--experiment", "spring", "--csv", csv)).ExitCode);
        Assert.Equal(0, (await PoProcess.RunAsync(temp.Path, null, "import", "--tenant", "t", "--csv", csv, "--lake", "lake")).ExitCode);
        string[] readout = ["readout", "--tenant", "t", "--experiment", "spring", "--lake", "lake"];
        string[] recommend = ["recommend", "--tenant", "t", "--experiment", "spring", "--goal", "revenue", "--control", "p0", "--lake", "lake"];
        foreach (var command in new[] { readout, recommend })
        {
            var text = (await PoProcess.RunAsync(temp.Path, null, command)).Stdout;
            var json = JsonDocument.Parse((await PoProcess.RunAsync(temp.Path, null, [.. command, "--json"])).Stdout).RootElement;
            var lines = text.Split('\n');
            Assert.All(lines, line => Assert.True(line.Length <= 100, $"{line.Length} columns: {line}"));
            // The first paragraph is the contract's headline, wrapped.
            var firstParagraph = string.Join(' ', lines.TakeWhile(l => l.Length > 0));
            Assert.Equal(json.GetProperty("headline").GetString(), firstParagraph);
            var wide = (await PoProcess.RunAsync(temp.Path, null, [.. command, "--wide"])).Stdout;
            Assert.StartsWith(json.GetProperty("headline").GetString()!, wide, StringComparison.Ordinal);
        }

        var everyColumn = (await PoProcess.RunAsync(temp.Path, null, [.. readout, "--wide"])).Stdout;
        Assert.Contains("seq. p", everyColumn, StringComparison.Ordinal);
        Assert.Contains(everyColumn.Split('\n'), l => l.Length > 100);
    }

    [Fact]
    public async Task The_operators_settings_start_an_api_and_a_lander_on_kafka_and_postgresql()
    {
        // Every exported setting of the block, with this machine's Kafka, PostgreSQL, folders and secrets.
        var exports = Regex.Matches(Block("operator"), @"^export (\w+)=", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        var here = new Dictionary<string, string>
        {
            ["Kafka__BootstrapServers"] = kafka.BootstrapServers,
            ["Kafka__Topic"] = kafka.NewTopic(partitions: 2),
            ["Storage__ControlPlane"] = PostgresServer.Shared.CreateDatabase(),
            ["Storage__LakeDirectory"] = Path.Combine(temp.Path, "lake"),
            ["Storage__DataDirectory"] = Path.Combine(temp.Path, "api"),
            ["Auth__SigningKey"] = IngestApiFactory.SigningKey,
            ["Auth__AdminKey"] = "operator-admin-key",
        };
        Assert.Equal(here.Keys.Order(), exports.Order());
        using var api = await ServiceProcess.StartApiAsync(here);
        using var lander = ServiceProcess.StartPo(new Dictionary<string, string>(here) { ["Storage__DataDirectory"] = Path.Combine(temp.Path, "lander") }, "land");
        using var http = new HttpClient { BaseAddress = api.BaseAddress };
        var ready = await http.GetStringAsync("/readyz");
        var promised = Regex.Match(Block("operator"), @"/readyz\s+# (\{.*\})").Groups[1].Value;
        Assert.Equal(promised, ready);
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("po_", StringComparison.Ordinal));
        Assert.False(lander.HasExited, string.Join('\n', lander.Output));
    }
}
