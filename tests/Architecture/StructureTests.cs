using System.Xml.Linq;
using ArchUnitNET.Domain;
using ArchUnitNET.Loader;

namespace PricingOptimizer.Tests.Architecture;

/// <summary>
/// The structure the projects promise (README "Layout"): no cycle between namespaces inside any assembly, project
/// references that point one way, and the lake-and-analysis projects free of Kafka, Stripe, PostgreSQL and ASP.NET Core.
/// </summary>
public sealed class StructureTests
{
    /// <summary>Every assembly the repository builds and ships (tests and test support excluded).</summary>
    private static readonly System.Reflection.Assembly[] Shipped =
        [.. new[] { "Core", "Lake", "EventLog", "Analysis", "ControlPlane", "Billing", "Reports", "Workbench", "Hosting", "IngestApi", "Client" }
            .Select(n => System.Reflection.Assembly.Load("PricingOptimizer." + n)), System.Reflection.Assembly.Load("po")];

    private static readonly Lazy<ArchUnitNET.Domain.Architecture> Loaded = new(() => new ArchLoader().LoadAssemblies(Shipped).Build());

    [Fact]
    public void No_two_namespaces_of_one_assembly_depend_on_each_other()
    {
        var cycles = new List<string>();
        foreach (var assembly in Loaded.Value.Types.GroupBy(t => t.Assembly.Name))
        {
            var edges = NamespaceEdges(assembly);
            foreach (var component in StronglyConnected(edges).Where(c => c.Count > 1))
            {
                var examples = edges.Where(e => component.Contains(e.Key.From) && component.Contains(e.Key.To))
                    .Select(e => $"{e.Key.From} → {e.Key.To} ({e.Value})");
                cycles.Add($"{ShortName(assembly.Key)}: {string.Join(", ", component.Order(StringComparer.Ordinal))}\n    " +
                           string.Join("\n    ", examples.Order(StringComparer.Ordinal)));
            }
        }

        Assert.True(cycles.Count == 0, "namespaces that depend on each other:\n" + string.Join("\n", cycles));
    }

    [Fact]
    public void The_cycle_check_sees_a_cycle_when_there_is_one()
    {
        // Two namespaces of this test assembly that use each other on purpose (below): the check must name both.
        var tests = new ArchLoader().LoadAssemblies(typeof(StructureTests).Assembly).Build();
        var edges = NamespaceEdges(tests.Types.GroupBy(t => t.Assembly.Name).Single());
        var found = StronglyConnected(edges).Where(c => c.Count > 1).ToList();
        Assert.Contains(found, c => c.Contains(typeof(CycleA.UsesB).Namespace!) && c.Contains(typeof(CycleB.UsesA).Namespace!));
    }

    [Fact]
    public void Project_references_point_one_way_and_the_lake_and_analysis_pull_in_no_server_library()
    {
        var root = Fixtures.RepositoryRoot.Find();
        var projects = Directory.EnumerateFiles(root, "*.csproj", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToDictionary(Path.GetFullPath, References);

        // A cycle of project references cannot build; the check states the rule for the reader.
        var edges = projects.SelectMany(p => p.Value.Select(r => (From: p.Key, To: r))).ToDictionary(e => e, _ => "");
        Assert.DoesNotContain(StronglyConnected(edges), c => c.Count > 1);

        string Project(string folder) => Path.GetFullPath(Path.Combine(root, folder));
        var closure = (string project) => Closure(project, projects);

        // po does not ship the test-only Kafka mock.
        Assert.DoesNotContain(Project("testing/testing.csproj"), closure(Project("pipelines/pipelines.csproj")));
        Assert.DoesNotContain(Project("testing/testing.csproj"), closure(Project("ingest-api/ingest-api.csproj")));

        // What a notebook or a script that reads a lake loads: no Kafka, Stripe, PostgreSQL or ASP.NET Core, not even transitively.
        foreach (var light in new[] { "engine/Workbench/Workbench.csproj", "engine/Analysis/Analysis.csproj", "engine/Lake/Lake.csproj",
            "engine/Core/Core.csproj" })
        {
            var libraries = AssetsLibraries(Project(light));
            foreach (var heavy in new[] { "Confluent.Kafka", "librdkafka.redist", "Stripe.net", "Npgsql", "Microsoft.AspNetCore." })
            {
                Assert.DoesNotContain(libraries, l => l.StartsWith(heavy, StringComparison.OrdinalIgnoreCase));
            }

            Assert.DoesNotContain(closure(Project(light)), p => p.EndsWith("ControlPlane.csproj", StringComparison.Ordinal)
                                                             || p.EndsWith("EventLog.csproj", StringComparison.Ordinal)
                                                             || p.EndsWith("Billing.csproj", StringComparison.Ordinal));
        }
    }

    /// <summary>Namespace → namespace edges inside one assembly, each with one type dependency that makes it.</summary>
    private static Dictionary<(string From, string To), string> NamespaceEdges(IEnumerable<IType> types)
    {
        var list = types.ToList();
        var assembly = list[0].Assembly.FullName;
        var edges = new Dictionary<(string From, string To), string>();
        foreach (var type in list)
        {
            foreach (var dependency in type.Dependencies)
            {
                var target = dependency.Target;
                var from = type.Namespace?.FullName;
                var to = target?.Namespace?.FullName;
                if (target?.Assembly?.FullName != assembly || string.IsNullOrEmpty(from) || string.IsNullOrEmpty(to) || from == to)
                {
                    continue;
                }

                edges.TryAdd((from, to), $"{type.Name} uses {target.Name}");
            }
        }

        return edges;
    }

    /// <summary>Tarjan's strongly connected components of the graph the edges draw.</summary>
    private static List<HashSet<string>> StronglyConnected<TValue>(Dictionary<(string From, string To), TValue> edges)
    {
        var next = edges.Keys.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).ToList());
        var nodes = edges.Keys.SelectMany(e => new[] { e.From, e.To }).Distinct().ToList();
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var components = new List<HashSet<string>>();

        void Visit(string node)
        {
            index[node] = low[node] = index.Count;
            stack.Push(node);
            onStack.Add(node);
            foreach (var to in next.GetValueOrDefault(node) ?? [])
            {
                if (!index.ContainsKey(to))
                {
                    Visit(to);
                    low[node] = Math.Min(low[node], low[to]);
                }
                else if (onStack.Contains(to))
                {
                    low[node] = Math.Min(low[node], index[to]);
                }
            }

            if (low[node] == index[node])
            {
                var component = new HashSet<string>();
                string member;
                do
                {
                    member = stack.Pop();
                    onStack.Remove(member);
                    component.Add(member);
                }
                while (member != node);
                components.Add(component);
            }
        }

        foreach (var node in nodes.Where(n => !index.ContainsKey(n)))
        {
            Visit(node);
        }

        return components;
    }

    private static List<string> References(string project)
    {
        var folder = Path.GetDirectoryName(project)!;
        return [.. XDocument.Load(project).Descendants("ProjectReference")
            .Select(r => Path.GetFullPath(Path.Combine(folder, r.Attribute("Include")!.Value.Replace('\\', Path.DirectorySeparatorChar))))];
    }

    private static HashSet<string> Closure(string project, Dictionary<string, List<string>> projects)
    {
        var seen = new HashSet<string>();
        var todo = new Stack<string>([project]);
        while (todo.TryPop(out var p))
        {
            foreach (var r in projects.GetValueOrDefault(p) ?? [])
            {
                if (seen.Add(r))
                {
                    todo.Push(r);
                }
            }
        }

        return seen;
    }

    /// <summary>Every package the project restores, direct or transitive (its obj/project.assets.json).</summary>
    private static List<string> AssetsLibraries(string project)
    {
        var assets = Path.Combine(Path.GetDirectoryName(project)!, "obj", "project.assets.json");
        Assert.True(File.Exists(assets), $"{assets} is missing: the solution is built before its tests run");
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(assets));
        return [.. json.RootElement.GetProperty("libraries").EnumerateObject()
            .Where(l => l.Value.GetProperty("type").GetString() == "package")
            .Select(l => l.Name.Split('/')[0])];
    }

    private static string ShortName(string assembly) => assembly.Split(',')[0];
}
