using System.Net;
using System.Text.Json;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Statistics;

public sealed class ImportAndReadoutTests : IDisposable
{
    private readonly TempDirectory folder = new();

    private string Csv(string name, string content)
    {
        var path = Path.Combine(folder.Path, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task Po_import_reports_bad_rows_by_line_imports_the_rest_and_a_second_import_changes_nothing()
    {
        var csv = Csv("mixed.csv", """
            event_id,type,experiment_id,variant_id,user_id,price,revenue,currency,occurred_at
            e1,assign,exp,control,u1,9.99,,USD,2021-03-01T10:00:00Z
            e2,assign,exp,charm,u2,-8.99,,USD,2021-03-01T10:00:00Z
            e3,convert,exp,control,u1,9.99,19.98,USD,2021-03-01T10:05:00Z
            e4,view,exp,control,u3,9.99,,usd,2021-03-01T10:00:00Z
            """);
        var data = Path.Combine(folder.Path, "data");
        var first = await PoProcess.RunAsync(folder.Path, null, "import", "--tenant", "shop", "--csv", csv, "--data", data);
        Assert.Equal(3, first.ExitCode);
        Assert.Contains("mixed.csv:3: price must be >= 0", first.Stderr, StringComparison.Ordinal);
        Assert.Contains("mixed.csv:5: type must be 'assign' or 'convert'", first.Stderr, StringComparison.Ordinal);
        Assert.Contains("mixed.csv:5: currency", first.Stderr, StringComparison.Ordinal);
        Assert.Contains("imported 2 new events for shop (0 already in the lake, 0 rows repeating an earlier row's event_id, 2 rows rejected)",
            first.Stdout, StringComparison.Ordinal);
        var files = Directory.EnumerateFiles(Path.Combine(data, "lake"), "*", SearchOption.AllDirectories).Order().ToList();

        var second = await PoProcess.RunAsync(folder.Path, null, "import", "--tenant", "shop", "--csv", csv, "--data", data);
        Assert.Equal(3, second.ExitCode);
        Assert.Contains("imported 0 new events for shop (2 already in the lake, 0 rows repeating an earlier row's event_id, 2 rows rejected)",
            second.Stdout, StringComparison.Ordinal);
        Assert.Equal(files, Directory.EnumerateFiles(Path.Combine(data, "lake"), "*", SearchOption.AllDirectories).Order().ToList());

        var readout = await PoProcess.RunAsync(folder.Path, null, "readout", "--tenant", "shop", "--experiment", "exp", "--data", data, "--json");
        Assert.Equal(0, readout.ExitCode);
        using var json = JsonDocument.Parse(readout.Stdout);
        var control = json.RootElement.GetProperty("variants").EnumerateArray().Single();
        Assert.Equal(1, control.GetProperty("users").GetInt64());
        Assert.Equal(1, control.GetProperty("conversions").GetInt64());
        Assert.Equal(19.98m, control.GetProperty("revenue").GetDecimal());
    }

    [Fact]
    public async Task Import_counts_new_present_repeated_and_rejected_rows_keeps_extra_columns_and_hints_at_other_csv_dialects()
    {
        var data = Path.Combine(folder.Path, "data");
        // Four rows, one repeating an event_id; an extra 'channel' column.
        var csv = Csv("four.csv", """
            event_id,type,experiment_id,variant_id,user_id,price,revenue,currency,occurred_at,channel
            a1,assign,exp,control,u1,10,,USD,2021-03-01T10:00:00Z,web
            a2,assign,exp,b,u2,8,,USD,2021-03-01T10:00:00Z,app
            a2,assign,exp,b,u2,8,,USD,2021-03-01T10:00:00Z,app
            c1,convert,exp,control,u1,10,10,USD,2021-03-01T10:05:00Z,
            """);
        var first = await PoProcess.RunAsync(folder.Path, null, "import", "--tenant", "dialects", "--csv", csv, "--data", data);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains("imported 3 new events for dialects (0 already in the lake, 1 rows repeating an earlier row's event_id, 0 rows rejected)",
            first.Stdout, StringComparison.Ordinal);
        Assert.Contains("channel are no event field: kept as properties", first.Stderr, StringComparison.Ordinal);
        var events = await PoProcess.RunAsync(folder.Path, null, "export", "--tenant", "dialects", "--csv", Path.Combine(folder.Path, "out.csv"),
            "--data", data);
        Assert.True(events.ExitCode == 0, events.Stderr);
        Assert.Contains("web", File.ReadAllText(Path.Combine(folder.Path, "out.csv")), StringComparison.Ordinal);

        // A second file overlapping the first: one event already there, one new.
        var overlap = Csv("overlap.csv", """
            event_id,type,experiment_id,variant_id,user_id,price,revenue,currency,occurred_at
            a1,assign,exp,control,u1,10,,USD,2021-03-01T10:00:00Z
            a3,assign,exp,b,u3,8,,USD,2021-03-01T10:00:00Z
            """);
        var second = await PoProcess.RunAsync(folder.Path, null, "import", "--tenant", "dialects", "--csv", overlap, "--data", data);
        Assert.Contains("imported 1 new events for dialects (1 already in the lake, 0 rows repeating", second.Stdout, StringComparison.Ordinal);

        var semicolons = Csv("semi.csv", """
            event_id;type;experiment_id;variant_id;user_id;price;revenue;currency;occurred_at
            a9;assign;exp;control;u9;9,99;;USD;2021-03-01T10:00:00Z
            """);
        var semi = await PoProcess.RunAsync(folder.Path, null, "import", "--tenant", "dialects", "--csv", semicolons, "--data", data);
        Assert.NotEqual(0, semi.ExitCode);
        Assert.Contains("separated by ';'", Assert.Single(semi.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);

        var comma = Csv("comma.csv", """
            event_id,type,experiment_id,variant_id,user_id,price,revenue,currency,occurred_at
            a8,assign,exp,control,u8,"9,99",,USD,2021-03-01T10:00:00Z
            """);
        var decimals = await PoProcess.RunAsync(folder.Path, null, "import", "--tenant", "dialects", "--csv", comma, "--data", data);
        Assert.Contains("'.' as the decimal point", decimals.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_counting_rules_hold_on_duplicates_early_converts_and_multiple_exposure()
    {
        var csv = Csv("rules.csv", """
            event_id,type,experiment_id,variant_id,user_id,price,revenue,currency,occurred_at
            a1,assign,exp,control,u1,10,,USD,2021-03-01T10:00:00Z
            a1,assign,exp,control,u1,10,,USD,2021-03-01T10:00:00Z
            c1,convert,exp,control,u1,10,30,USD,2021-03-01T10:05:00Z
            c1,convert,exp,control,u1,10,30,USD,2021-03-01T10:05:00Z
            a2,assign,exp,b,u2,8,,USD,2021-03-01T10:00:00Z
            c2,convert,exp,b,u2,8,,USD,2021-03-01T09:59:00Z
            a3,assign,exp,control,u3,10,,USD,2021-03-01T10:00:00Z
            a3b,assign,exp,b,u3,8,,USD,2021-03-01T11:00:00Z
            c3,convert,exp,b,u3,8,,USD,2021-03-01T11:05:00Z
            a4,assign,exp,b,u4,8,,USD,2021-03-02T10:00:00Z
            a4b,assign,exp,b,u4,8,,USD,2021-03-01T10:00:00Z
            c4,convert,exp,b,u4,8,,USD,2021-03-01T12:00:00Z
            """);
        var data = Path.Combine(folder.Path, "data");
        Assert.Equal(0, (await PoProcess.RunAsync(folder.Path, null, "import", "--tenant", "rules", "--csv", csv, "--data", data)).ExitCode);
        var readout = await PoProcess.RunAsync(folder.Path, null, "readout", "--tenant", "rules", "--experiment", "exp", "--data", data, "--json");
        Assert.Equal(0, readout.ExitCode);
        using var json = JsonDocument.Parse(readout.Stdout);
        var variants = json.RootElement.GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("variant_id").GetString()!);
        Assert.Equal(1, json.RootElement.GetProperty("multiple_exposure_users").GetInt64()); // u3
        Assert.Equal(1, variants["control"].GetProperty("users").GetInt64()); // u1, once
        Assert.Equal(1, variants["control"].GetProperty("conversions").GetInt64());
        Assert.Equal(30m, variants["control"].GetProperty("revenue").GetDecimal()); // the repeated convert counts once
        Assert.Equal(2, variants["b"].GetProperty("users").GetInt64()); // u2, u4
        Assert.Equal(1, variants["b"].GetProperty("conversions").GetInt64()); // u2's convert came before the assign; u4's after its first
        Assert.Equal(8m, variants["b"].GetProperty("revenue").GetDecimal());
    }

    [Fact]
    public async Task Export_then_import_elsewhere_gives_the_same_readout()
    {
        var data = Path.Combine(folder.Path, "data");
        var reference = Path.Combine(ReferenceCaseTests.ReferenceFolder, "case-3.csv");
        Assert.Equal(0, (await PoProcess.RunAsync(folder.Path, null, "import", "--tenant", "a", "--csv", reference, "--data", data)).ExitCode);
        var exported = Path.Combine(folder.Path, "exported.csv");
        Assert.Equal(0, (await PoProcess.RunAsync(folder.Path, null, "export", "--tenant", "a", "--experiment", "exp-1", "--csv", exported, "--data",
            data)).ExitCode);
        Assert.Equal(0, (await PoProcess.RunAsync(folder.Path, null, "import", "--tenant", "b", "--csv", exported, "--data", data)).ExitCode);

        var a = await PoProcess.RunAsync(folder.Path, null, "readout", "--tenant", "a", "--experiment", "exp-1", "--control", "A", "--data", data, "--json");
        var b = await PoProcess.RunAsync(folder.Path, null, "readout", "--tenant", "b", "--experiment", "exp-1", "--control", "A", "--data", data, "--json");
        Assert.Equal(a.Stdout.Replace("\"a\"", "\"b\"", StringComparison.Ordinal), b.Stdout);
    }

    [Fact]
    public async Task The_api_serves_the_same_readout()
    {
        using var api = new IngestApiFactory(new Dictionary<string, string?> { ["Auth:AdminKey"] = "readout-admin" });
        var (tenantId, _, client) = await api.CreateTenantAsync("readout-admin", "Shop", "pro");
        await IngestApiFactory.CreateTestExperimentAsync(client, "exp-1");
        var events = TestEvents.Mixed(60, DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/v1/events", IngestApiFactory.Json(events))).StatusCode);
        await api.LandUntilAsync(tenantId, events.Count);

        var response = await client.GetAsync("/v1/experiments/exp-1/readout");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("control", json.RootElement.GetProperty("control_variant_id").GetString());
        Assert.Equal(60, json.RootElement.GetProperty("variants").EnumerateArray().Sum(v => v.GetProperty("users").GetInt64()));
        Assert.Equal(20, json.RootElement.GetProperty("variants").EnumerateArray().Sum(v => v.GetProperty("conversions").GetInt64()));
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("revenue_cap").ValueKind);

        // Contract v2 options as query parameters: the cap is the median of the buyers' revenues (8.99, 9.99, 17.9812).
        var capped = await client.GetAsync("/v1/experiments/exp-1/readout?cap_percentile=0.5&sequential_tuning=10000&cuped=false");
        Assert.Equal(HttpStatusCode.OK, capped.StatusCode);
        using var v2 = JsonDocument.Parse(await capped.Content.ReadAsStringAsync());
        var cap = v2.RootElement.GetProperty("revenue_cap").GetDouble();
        Assert.Contains(cap, new[] { 8.99, 9.99, 17.9812 });
        Assert.Equal(JsonValueKind.Null, v2.RootElement.GetProperty("cuped_theta").ValueKind);
        var charm = v2.RootElement.GetProperty("variants").EnumerateArray().Single(v => v.GetProperty("variant_id").GetString() == "charm");
        Assert.Equal(2, charm.GetProperty("revenue_difference_cs").GetArrayLength());
        Assert.Equal(2, charm.GetProperty("difference_cs").GetArrayLength());
        Assert.Equal(charm.GetProperty("p_value").GetDouble(), charm.GetProperty("p_value_adjusted_bh").GetDouble(), 12);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/experiments/none/readout")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/v1/experiments/exp-1/readout?control=zzz")).StatusCode);
    }

    public void Dispose() => folder.Dispose();
}
