using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Dashboard;

/// <summary>
/// The web dashboard at <c>/app</c> in a real browser (Debian's Chromium through Playwright), against the API in its
/// own process: sign in with the API key (by keyboard), the experiment list, an experiment's page, a lifecycle move,
/// creating an experiment, usage and the bill. The figures shown are checked against the API's JSON, every page
/// against axe's accessibility rules, and each is saved as a screenshot under the test output (screenshots/).
/// </summary>
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    private const string AdminKey = "dashboard-admin";
    private const string Chromium = "/usr/bin/chromium";
    /// <summary>Counts as the page writes them (1,600): the invariant culture's grouping, the same as en-US.</summary>
    private static readonly CultureInfo En = CultureInfo.InvariantCulture;
    private readonly TempDirectory temp = new();
    private readonly string screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");
    private readonly List<string> consoleErrors = [];
    private ServiceProcess api = null!;
    private HttpClient http = null!;
    private IPlaywright playwright = null!;
    private IBrowser browser = null!;
    private string apiKey = "";

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: .ci/run installs Debian's chromium (apt-get install chromium)");
        api = await ServiceProcess.StartApiAsync(new Dictionary<string, string>
        {
            ["Storage__DataDirectory"] = temp.Path,
            ["Auth__SigningKey"] = IngestApiFactory.SigningKey,
            ["Auth__AdminKey"] = AdminKey,
            ["Lander__FlushIntervalMs"] = "200",
            ["Logging__LogLevel__Default"] = "Warning",
        });
        (apiKey, http) = await api.CreateTenantAsync(AdminKey, "Dashboard shop", "pro");
        await SeedAsync();

        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        Directory.CreateDirectory(screenshots);
    }

    public async Task DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
        http.Dispose();
        api.Dispose();
        temp.Dispose();
    }

    /// <summary>A four-price test whose buyers thin out as the price rises: 1,600 users, landed before the browser looks.</summary>
    private async Task SeedAsync()
    {
        var prices = new[] { 9.99m, 11.99m, 13.99m, 15.99m };
        var created = await http.PostAsync("/v1/experiments", IngestApiFactory.Json(JsonSerializer.Serialize(new
        {
            experiment_id = "spring", name = "Spring price", currency = "USD",
            variants = prices.Select((p, i) => new { variant_id = $"p{i}", price = p, control = i == 0 }),
        })));
        created.EnsureSuccessStatusCode();
        (await http.PostAsync("/v1/experiments/spring/start", null)).EnsureSuccessStatusCode();
        var random = new Random(3);
        var start = DateTimeOffset.UtcNow.AddDays(-6);
        var events = new List<object>();
        for (var u = 0; u < 1600; u++)
        {
            var i = u % prices.Length;
            var at = start.AddMinutes(u * 5);
            events.Add(new { event_id = $"a{u}", type = "assign", experiment_id = "spring", variant_id = $"p{i}", user_id = $"u{u}", price = prices[i],
                currency = "USD", occurred_at = at.ToString("O", CultureInfo.InvariantCulture) });
            if (random.NextDouble() < 0.45 - 0.07 * i)
            {
                events.Add(new { event_id = $"c{u}", type = "convert", experiment_id = "spring", variant_id = $"p{i}", user_id = $"u{u}", price = prices[i],
                    revenue = prices[i] * (random.NextDouble() < 0.2 ? 2 : 1), currency = "USD", occurred_at = at.AddMinutes(3).ToString("O", CultureInfo.InvariantCulture) });
            }
        }

        foreach (var chunk in events.Chunk(1000))
        {
            (await http.PostAsync("/v1/events", IngestApiFactory.Json(JsonSerializer.Serialize(new { events = chunk })))).EnsureSuccessStatusCode();
        }

        for (var tries = 0; tries < 600; tries++)
        {
            var readout = await http.GetAsync("/v1/experiments/spring/readout");
            if (readout.IsSuccessStatusCode && (await readout.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("variants").EnumerateArray()
                    .Sum(v => v.GetProperty("users").GetInt64()) == 1600)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the seeded events did not land");
    }

    private async Task<IPage> SignedInAsync(ViewportSize? viewport = null)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = viewport ?? new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        // Script errors and content-security-policy refusals fail the test; an API refusal the page shows (a 409, a 400
        // readout of a draft) is logged by the browser as a failed resource and is not the page's error.
        page.PageError += (_, error) => consoleErrors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
            {
                consoleErrors.Add(message.Text);
            }
        };
        var response = await page.GotoAsync(new Uri(api.BaseAddress!, "/app").ToString());
        Assert.Contains("script-src 'self'", response!.Headers["content-security-policy"], StringComparison.Ordinal);
        // By keyboard: the key field, then Enter.
        await page.GetByLabel("API key").FocusAsync();
        await page.Keyboard.TypeAsync(apiKey);
        await page.Keyboard.PressAsync("Enter");
        await page.Locator("#experiments").WaitForAsync();
        return page;
    }

    private async Task CheckAccessibleAsync(IPage page, string name)
    {
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, name + ".png"), FullPage = true });
        var result = await page.RunAxe();
        Assert.True(result.Violations.Length == 0, $"{name}: " + string.Join("; ", result.Violations.Select(v => $"{v.Id}: {v.Help} ({v.Nodes.Length} nodes)")));
    }

    private async Task<JsonElement> GetAsync(string path) => await http.GetFromJsonAsync<JsonElement>(path);

    private static string Text(IPage page, string selector) => page.Locator(selector).InnerTextAsync().GetAwaiter().GetResult().Trim();

    [Fact]
    public async Task A_pricing_manager_signs_in_reads_the_list_and_the_experiment_and_every_figure_is_the_apis()
    {
        var page = await SignedInAsync();
        var board = await GetAsync("/v1/analytics/experiments");
        var row = board.GetProperty("experiments").EnumerateArray().Single();
        var shownRow = page.Locator("tr[data-experiment='spring']");
        Assert.Equal(row.GetProperty("users").GetInt64().ToString("N0", En), (await shownRow.Locator("[data-field=users]").InnerTextAsync()).Trim());
        Assert.Equal("active", (await shownRow.Locator("[data-field=status]").InnerTextAsync()).Trim());
        var leader = row.GetProperty("leading_variant_id").GetString();
        Assert.StartsWith(leader + " (", (await shownRow.Locator("[data-field=leader]").InnerTextAsync()).Trim(), StringComparison.Ordinal);
        Assert.Equal((row.GetProperty("leading_chance_to_beat_control").GetDouble() * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%",
            (await shownRow.Locator("[data-field=chance]").InnerTextAsync()).Trim());
        await CheckAccessibleAsync(page, "experiments");

        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Spring price" }).ClickAsync();
        await page.Locator("#variants").WaitForAsync();
        await page.Locator("#value-curve").WaitForAsync();
        var readout = await GetAsync("/v1/experiments/spring/readout");
        var recommendation = await GetAsync("/v1/experiments/spring/recommendation?goal=revenue");
        Assert.Equal(recommendation.GetProperty("headline").GetString(), Text(page, "#decision"));
        Assert.Equal(readout.GetProperty("headline").GetString(), Text(page, "#readout-headline"));
        foreach (var v in readout.GetProperty("variants").EnumerateArray())
        {
            var shown = page.Locator($"tr[data-variant='{v.GetProperty("variant_id").GetString()}']");
            Assert.Equal(v.GetProperty("users").GetInt64().ToString("N0", En), (await shown.Locator("[data-field=users]").InnerTextAsync()).Trim());
            Assert.Equal(v.GetProperty("revenue_per_user").GetDouble().ToString("0.000", CultureInfo.InvariantCulture),
                (await shown.Locator("[data-field=revenue_per_user]").InnerTextAsync()).Trim());
            Assert.Equal((v.GetProperty("conversion_rate").GetDouble() * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%",
                (await shown.Locator("[data-field=conversion_rate]").InnerTextAsync()).Trim());
        }

        // The charts: lift over time with its always-valid band, the value curve with its band and a dot per tested price.
        Assert.True(await page.Locator("#lift-chart polygon").CountAsync() >= 1);
        Assert.Equal(4, await page.Locator("#value-curve circle").CountAsync());
        Assert.Equal(recommendation.GetProperty("reasoning").GetArrayLength(), await page.Locator("#reasoning li").CountAsync());
        Assert.Equal(recommendation.GetProperty("models").GetArrayLength(), await page.Locator("#demand-models tbody tr").CountAsync());
        await CheckAccessibleAsync(page, "experiment");

        // The token lives in the page's memory only.
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length + sessionStorage.length"));
        Assert.Equal("", await page.EvaluateAsync<string>("() => document.cookie"));
        Assert.Empty(consoleErrors);
    }

    [Fact]
    public async Task Lifecycle_moves_and_a_new_experiment_go_through_the_api_with_if_match()
    {
        var page = await SignedInAsync();
        // A reload signs out (the token was in the page's memory): sign in again, by mouse this time.
        await page.ReloadAsync();
        Assert.True(await page.GetByLabel("API key").IsVisibleAsync());
        await page.GetByLabel("API key").FillAsync(apiKey);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Spring price" }).ClickAsync();
        await page.Locator("[data-move=pause]").ClickAsync();
        await page.Locator("#lifecycle-status").Filter(new LocatorFilterOptions { HasText = "Done: pause." }).WaitForAsync();
        Assert.Equal("paused", (await GetAsync("/v1/experiments/spring")).GetProperty("status").GetString());
        await page.Locator("[data-move=start]").ClickAsync();
        await page.Locator("#lifecycle-status").Filter(new LocatorFilterOptions { HasText = "Done: start." }).WaitForAsync();
        Assert.Equal("active", (await GetAsync("/v1/experiments/spring")).GetProperty("status").GetString());

        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "New experiment" }).ClickAsync();
        await page.GetByLabel("Experiment id (optional)").FillAsync("autumn");
        await page.GetByLabel("Name").FillAsync("Autumn price");
        var ids = page.Locator("input[name=variant_id]");
        var prices = page.Locator("input[name=price]");
        await ids.Nth(0).FillAsync("low");
        await prices.Nth(0).FillAsync("19.99");
        await ids.Nth(1).FillAsync("high");
        await prices.Nth(1).FillAsync("24.99");
        await CheckAccessibleAsync(page, "new-experiment");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create (as a draft)" }).ClickAsync();
        await page.Locator("[data-move=start]").ClickAsync();
        await page.Locator("#lifecycle-status").Filter(new LocatorFilterOptions { HasText = "Done: start." }).WaitForAsync();
        var autumn = await GetAsync("/v1/experiments/autumn");
        Assert.Equal(("active", "Autumn price", 2), (autumn.GetProperty("status").GetString(), autumn.GetProperty("name").GetString(),
            autumn.GetProperty("variants").GetArrayLength()));
        Assert.True(autumn.GetProperty("variants")[0].GetProperty("control").GetBoolean());
        await page.Locator("[data-move=complete]").ClickAsync();
        await page.Locator("#lifecycle-status").Filter(new LocatorFilterOptions { HasText = "Done: complete." }).WaitForAsync();
        Assert.Equal("completed", (await GetAsync("/v1/experiments/autumn")).GetProperty("status").GetString());
        Assert.Equal(0, await page.Locator("[data-move]").CountAsync()); // a completed experiment has no moves left

        // An adaptive experiment shows its weights over time (version 0 is the burn-in's equal split) and what the next update would do.
        var adaptive = await http.PostAsync("/v1/experiments", IngestApiFactory.Json("""
            {"experiment_id":"adaptive","name":"Adaptive price","currency":"USD","allocation":{"mode":"adaptive"},
             "variants":[{"variant_id":"a","price":5,"control":true},{"variant_id":"b","price":6},{"variant_id":"c","price":7},{"variant_id":"d","price":8}]}
            """));
        adaptive.EnsureSuccessStatusCode();
        (await http.PostAsync("/v1/experiments/adaptive/start", null)).EnsureSuccessStatusCode();
        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Experiments" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Adaptive price" }).ClickAsync();
        await page.Locator("#allocation").WaitForAsync();
        Assert.Equal(["0", "the start (burn-in)", "25.0%", "25.0%", "25.0%", "25.0%"],
            (await page.Locator("#allocation tbody tr").First.Locator("td").AllInnerTextsAsync()).Select(t => t.Trim()));
        var next = (await GetAsync("/v1/experiments/adaptive/allocation")).GetProperty("next").GetProperty("reasons");
        Assert.Equal(next.GetArrayLength(), await page.Locator("#allocation-next li").CountAsync());
        await CheckAccessibleAsync(page, "adaptive-experiment");

        // A refusal is shown with the field it names.
        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "New experiment" }).ClickAsync();
        await page.GetByLabel("Experiment id (optional)").FillAsync("autumn");
        await page.GetByLabel("Name").FillAsync("Again");
        await ids.Nth(0).FillAsync("a");
        await prices.Nth(0).FillAsync("1");
        await ids.Nth(1).FillAsync("b");
        await prices.Nth(1).FillAsync("2");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create (as a draft)" }).ClickAsync();
        await page.Locator("#create-error").Filter(new LocatorFilterOptions { HasTextRegex = new System.Text.RegularExpressions.Regex(".+") }).WaitForAsync();
        Assert.Contains("experiment_id", Text(page, "#create-error"), StringComparison.Ordinal);
        Assert.Empty(consoleErrors);
    }

    [Fact]
    public async Task Usage_and_the_bill_show_the_apis_figures_and_pages_read_on_a_phone()
    {
        var page = await SignedInAsync();
        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Usage and bill" }).ClickAsync();
        await page.Locator("#bill").WaitForAsync();
        var bill = await GetAsync($"/v1/billing/{DateTime.UtcNow:yyyy-MM}");
        Assert.Equal(bill.GetProperty("total").GetDecimal().ToString("0.00", CultureInfo.InvariantCulture) + " USD", Text(page, "#bill [data-field=total]"));
        Assert.Equal(bill.GetProperty("events").GetInt64().ToString("N0", En), Text(page, "#bill [data-field=events]"));
        await CheckAccessibleAsync(page, "usage");

        var phone = await SignedInAsync(new ViewportSize { Width = 390, Height = 844 });
        await phone.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Spring price" }).ClickAsync();
        await phone.Locator("#value-curve").WaitForAsync();
        // Readable on a phone: the page itself does not scroll sideways (wide tables scroll in their own box).
        Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));
        await CheckAccessibleAsync(phone, "experiment-phone");
        Assert.Empty(consoleErrors);
    }
}
